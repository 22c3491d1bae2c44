import AtelierCore
import Foundation
import Vapor

/// OpenAI's Images API shapes, as the official SDKs read them.
enum OpenAIWire {
    /// `ImagesResponse`.
    struct ImagesResponse: Encodable {
        struct Item: Encodable { var b64_json: String }
        var created: Int
        var data: [Item]
        var background: String?
        var output_format: String?
        var quality: String?
        var size: String?
        var usage: UsageBody?
        /// SVG output only: the author's tokens, as the upstream reported them.
        var svg_usage: SvgUsage?
    }

    /// `usage` with `input_tokens_details` / `output_tokens_details`.
    struct UsageBody: Encodable {
        struct Details: Encodable {
            var text_tokens: Int
            var image_tokens: Int
        }
        var input_tokens: Int
        var input_tokens_details: Details
        var output_tokens: Int
        var output_tokens_details: Details
        var total_tokens: Int

        init(_ usage: Usage) {
            input_tokens = usage.inputTokens
            input_tokens_details = Details(text_tokens: usage.inputTextTokens, image_tokens: usage.inputImageTokens)
            output_tokens = usage.outputTokens
            output_tokens_details = Details(text_tokens: usage.outputTextTokens, image_tokens: usage.outputImageTokens)
            total_tokens = usage.totalTokens
        }
    }

    /// One streamed event: `image_generation.partial_image`, `image_edit.completed`, …
    struct StreamEvent: Encodable {
        var type: String
        var b64_json: String
        var created_at: Int
        var size: String?
        var quality: String?
        var background: String?
        var output_format: String?
        var partial_image_index: Int?
        var usage: UsageBody?
    }

    /// `{"error":{"message","type","param","code"}}` (plus Atelier's `field`, the same as `param`).
    struct ErrorResponse: Encodable {
        struct Detail: Encodable {
            var message: String
            var type: String
            var param: String?
            var code: String?
            var field: String?

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)
                try c.encode(code, forKey: .code)
                try c.encode(field, forKey: .field)
            }

            enum CodingKeys: String, CodingKey { case message, type, param, code, field }
        }
        var error: Detail
        /// The HTTP status it answers with (not part of the body).
        let status: HTTPResponseStatus

        enum CodingKeys: String, CodingKey { case error }

        init(status: HTTPResponseStatus, code: String, message: String, field: String?) {
            let type = status == .unauthorized ? "authentication_error"
                : status.code < 500 ? "invalid_request_error" : "server_error"
            error = Detail(message: message, type: type, param: field, code: code, field: field)
            self.status = status
        }

        /// A failed or canceled job, with the HTTP status its error answers with.
        init(failed job: JobRecord) {
            let code = job.errorCode ?? "upstream_error"
            self.init(status: OpenAIWire.status(forJobError: code), code: code, message: job.errorMessage ?? "The job failed.", field: nil)
        }
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
