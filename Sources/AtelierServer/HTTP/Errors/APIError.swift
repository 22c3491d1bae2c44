import AtelierCore
import Vapor

/// An error the API returns as `{"error": {"code", "message", "field"}}`.
struct APIError: AbortError, Sendable {
    var status: HTTPResponseStatus
    var code: String
    var message: String
    var field: String?
    var headers: HTTPHeaders = [:]

    var reason: String { message }

    static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: "No \(what) with that id.")
    }

    static func invalid(_ field: String?, _ message: String, code: String = "invalid_value") -> APIError {
        APIError(status: .badRequest, code: code, message: message, field: field)
    }

    static let suspended = APIError(
        status: .forbidden, code: "account_suspended", message: "This account is suspended; ask an admin.")

    static let pending = APIError(
        status: .forbidden, code: "account_pending",
        message: "Your account is waiting for an admin's approval; you can use it once it is approved.")

    /// 503 when the server is too loaded to answer now (its database connections all stayed busy).
    static let busy = APIError(
        status: .serviceUnavailable, code: "busy", message: "The server is busy; retry in a few seconds.",
        headers: ["Retry-After": "2"])

    var detail: ErrorBody.Detail { .init(code: code, message: message, field: field) }

    static func conflict(_ message: String, code: String = "conflict") -> APIError {
        APIError(status: .conflict, code: code, message: message)
    }
}

extension ValidationError {
    var apiError: APIError { APIError(status: .badRequest, code: code, message: message, field: field) }
}

/// The error envelope.
struct ErrorBody: Content {
    struct Detail: Content {
        var code: String
        var message: String
        var field: String?

        /// `field` is always present (null when the error is not about one field).
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            try container.encode(field, forKey: .field)
        }
    }

    var error: Detail
}
