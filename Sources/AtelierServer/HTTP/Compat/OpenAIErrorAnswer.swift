import AtelierCore
import Foundation
import OpenAIImages
import Vapor

/// An error on the OpenAI-compatible routes: OpenAI's `{"error":{"message","type","param","code"}}` (plus
/// Atelier's `field`, the same as `param`) and the HTTP status it answers with.
struct OpenAIErrorAnswer {
    var detail: OpenAIWire.ErrorDetail
    let status: HTTPResponseStatus

    init(status: HTTPResponseStatus, code: String, message: String, field: String?) {
        let type =
            status == .unauthorized
            ? "authentication_error"
            : status.code < 500 ? "invalid_request_error" : "server_error"
        detail = OpenAIWire.ErrorDetail(message: message, type: type, param: field, code: code, field: field)
        self.status = status
    }

    /// A failed or canceled job.
    init(failed job: JobRecord) {
        let code = job.errorCode ?? "upstream_error"
        self.init(status: Self.status(forJobError: code), code: code, message: job.errorMessage ?? "The job failed.", field: nil)
    }

    func response() throws -> Response {
        try OpenAIErrorAnswer.json(OpenAIWire.ErrorEnvelope(error: detail), status: status)
    }

    /// The HTTP status a failed job answers with: the upstream's own refusals keep their meaning.
    static func status(forJobError code: String) -> HTTPResponseStatus {
        switch code {
        case "invalid_request", "moderation_blocked", "invalid_value", "missing_input": .badRequest
        case "rate_limited", "insufficient_quota": .tooManyRequests
        case "upstream_timeout": .gatewayTimeout
        case "canceled": .conflict
        default: .badGateway
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) throws -> Response {
        let response = Response(status: status, body: .init(data: try JSONEncoder.api.encode(value)))
        response.headers.contentType = .json
        return response
    }
}
