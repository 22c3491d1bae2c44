/// Why an upstream call failed, in terms a worker can act on.
public enum ProviderError: Error, Sendable, Equatable {
    case invalidRequest(message: String, param: String?, code: String?)
    case unauthenticated(message: String)
    case permissionDenied(message: String, code: String?)
    case modelNotFound(message: String)
    /// Seconds to wait, from Retry-After, retry-after-ms or x-ratelimit-reset-*.
    case rateLimited(message: String, retryAfter: Double?)
    case insufficientQuota(message: String, code: String?)
    case moderationBlocked(message: String)
    case serverError(status: Int, message: String)
    case timeout
    case connection(message: String)
    /// The body was cut short or not what the API sends.
    case invalidResponse(message: String)
    case canceled

    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .serverError, .timeout, .connection, .invalidResponse: true
        default: false
        }
    }

    public var retryAfter: Double? {
        if case .rateLimited(_, let seconds) = self { return seconds }
        return nil
    }

    /// A stable code for the job's error record.
    public var code: String {
        switch self {
        case .invalidRequest(_, _, let code): code ?? "invalid_request"
        case .unauthenticated: "upstream_unauthenticated"
        case .permissionDenied(_, let code): code ?? "upstream_permission_denied"
        case .modelNotFound: "model_not_found"
        case .rateLimited: "rate_limited"
        case .insufficientQuota(_, let code): code ?? "insufficient_quota"
        case .moderationBlocked: "moderation_blocked"
        case .serverError: "upstream_server_error"
        case .timeout: "upstream_timeout"
        case .connection: "upstream_unreachable"
        case .invalidResponse: "upstream_invalid_response"
        case .canceled: "canceled"
        }
    }

    /// What a person reads: the upstream's words plus what to do next.
    public var message: String {
        switch self {
        case .invalidRequest(let message, let param, _):
            param.map { "The upstream refused parameter '\($0)': \(message)" } ?? "The upstream refused the request: \(message)"
        case .unauthenticated(let message):
            "The OpenAI key was rejected (\(message)). An administrator must set a valid OPENAI_API_KEY."
        case .permissionDenied(let message, _):
            "The OpenAI organization may not use this model: \(message)"
        case .modelNotFound(let message): "The upstream does not know this model: \(message)"
        case .rateLimited(let message, _): "The upstream is rate limiting (\(message)); Atelier retries automatically."
        case .insufficientQuota(let message, _):
            "The OpenAI account is out of quota or hit a spend limit (\(message)). Check billing; retrying will not help."
        case .moderationBlocked(let message):
            "The safety system rejected this request: \(message) Rephrase the prompt or change the inputs."
        case .serverError(let status, let message): "The upstream failed (HTTP \(status)): \(message)"
        case .timeout: "The upstream did not answer in time."
        case .connection(let message): "The upstream could not be reached: \(message)"
        case .invalidResponse(let message): "The upstream sent an incomplete or invalid answer: \(message)"
        case .canceled: "The job was canceled."
        }
    }
}
