import AtelierCore
import Foundation

/// How the stand-in behaves. Everything has a test-friendly default.
public struct StandInOptions: Sendable {
    /// When set, `Authorization: Bearer <apiKey>` must match exactly; otherwise any non-empty Bearer key is accepted.
    public var apiKey: String?
    /// Fixed delay before answering every API call (a request header `x-standin-latency-ms` overrides it).
    public var latencyMilliseconds: Int
    /// The model registry used to validate model-specific values (nil = `ModelRegistry.bundled()`).
    public var registry: ModelRegistry?
    /// Upper bound on recorded upload bytes kept for `GET /_standin/requests/{i}/files/{j}` (oldest dropped first).
    public var maxRecordedFileBytes: Int
    /// Upper bound on recorded request entries (oldest dropped first; stats stay exact).
    public var maxRecordedRequests: Int
    /// Called with the request index right after an API request (`/v1/images/*`) is recorded (tests synchronise on it).
    public var onRequestRecorded: (@Sendable (Int) -> Void)?
    /// Answer with Gaussian-noise images (about as large as photographs get) instead of the small test pattern;
    /// for memory benchmarks.
    public var noiseImages = false
    /// Noise images: pixels per noise sample along each side (1 = every pixel independent, a 1024×1024 PNG of
    /// about 2.4 MB, as large as photographs get; 2 = the default, much smaller).
    public var noiseGrain = 2
    /// Answer with uniform noise instead (takes precedence over `noiseImages`): every byte random, so a PNG is as
    /// large as the raw pixels (1024×1024: ~3.15 MB, like OpenAI's own answers); see `StandInUniformNoise`.
    public var noiseUniform = false
    /// Answer repeated identical calls with the image synthesized the first time (kept in memory), so the stand-in's
    /// own CPU time stays out of a benchmark: the answer then takes the configured latency plus base64 encoding.
    public var reuseImages = false
    /// Images each API key may have per `rateWindowSeconds` (nil: no limit); see `StandInRateLimiter`.
    public var imagesPerWindow: Int? = nil
    /// The period `imagesPerWindow` counts over: 60 is OpenAI's minute; tests scale it down (12 per 6 s ≈ 12/min × 10).
    public var rateWindowSeconds: Double = 60
    /// Start out of quota: every call gets 429 `insufficient_quota` (switch with `POST /_standin/quota`).
    public var quotaExhausted = false
    /// When set, only these Bearer keys are accepted (several upstream keys); `apiKey` still works for one.
    public var apiKeys: Set<String>? = nil
    /// Batch lines executed per `GET /v1/batches/{id}` while a batch is in progress (tests use small values to
    /// poll mid-batch).
    public var batchLinesPerPoll = Int.max

    public init(
        apiKey: String? = nil, latencyMilliseconds: Int = 0, registry: ModelRegistry? = nil,
        maxRecordedFileBytes: Int = 64 << 20, maxRecordedRequests: Int = 10_000,
        onRequestRecorded: (@Sendable (Int) -> Void)? = nil
    ) {
        self.onRequestRecorded = onRequestRecorded
        self.apiKey = apiKey
        self.latencyMilliseconds = latencyMilliseconds
        self.registry = registry
        self.maxRecordedFileBytes = maxRecordedFileBytes
        self.maxRecordedRequests = maxRecordedRequests
    }
}

/// One injected failure, consumed by the next matching request.
public struct StandInFault: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case rateLimit = "rate_limit"
        case serverError = "server_error"
        case hang
        case truncate
        case insufficientQuota = "insufficient_quota"
        case unauthenticated
        case notVerified = "not_verified"
        case modelNotFound = "model_not_found"
        case moderationBlocked = "moderation_blocked"
        case invalidRequest = "invalid_request"
        case streamError = "stream_error"
        /// A 200 whose body is not JSON.
        case invalidJSON = "invalid_json"
        /// A 200 `ImagesResponse` whose `b64_json` is not base64.
        case badBase64 = "bad_base64"
        /// A whole 200 `ImagesResponse` that stops after its head and `bytes` of its body until
        /// `POST /_standin/release` (or `seconds`, default 30), then sends the rest.
        case stall
    }

    public var kind: Kind
    /// rate_limit: seconds for `Retry-After` (default 1).
    public var retryAfter: Double?
    /// rate_limit: also send `retry-after-ms`.
    public var retryAfterMs: Int?
    /// hang: how long to wait before answering normally (default 30).
    public var seconds: Double?
    /// invalid_request: which parameter to blame.
    public var param: String?
    /// insufficient_quota: the error code (default insufficient_quota).
    public var code: String?
    /// server_error: the status (default 500).
    public var status: Int?
    /// stall: bytes of the body sent before it stops (default 0: the head only).
    public var bytes: Int?

    public init(
        kind: Kind, retryAfter: Double? = nil, retryAfterMs: Int? = nil, seconds: Double? = nil, param: String? = nil,
        code: String? = nil, status: Int? = nil, bytes: Int? = nil
    ) {
        self.kind = kind
        self.retryAfter = retryAfter
        self.retryAfterMs = retryAfterMs
        self.seconds = seconds
        self.param = param
        self.code = code
        self.status = status
        self.bytes = bytes
    }

    enum CodingKeys: String, CodingKey {
        case kind, seconds, param, code, status, bytes
        case retryAfter = "retry_after", retryAfterMs = "retry_after_ms"
    }
}

/// `POST /_standin/faults` body.
public struct StandInFaultRequest: Codable, Sendable {
    public enum Match: String, Codable, Sendable { case generations, edits }
    public var faults: [StandInFault]
    public var match: Match?

    public init(faults: [StandInFault], match: Match? = nil) {
        self.faults = faults
        self.match = match
    }
}
