import AtelierCore
import ImageProcessing
import Vapor

/// Turns every error into the API's JSON envelope. Internal details go to the log, never to the client.
/// A plain (future) middleware: mapping an error needs no async work, so no Task per request.
struct APIErrorMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).recover { Self.response(for: $0, request: request) }
    }

    static func response(for error: any Error, request: Request) -> Response {
        let (status, detail, headers) = describe(error, request: request)
        let response = Response(status: status, headers: headers)
        do {
            try response.content.encode(ErrorBody(error: detail), using: JSONEncoder.api)
        } catch {
            response.body = .init(string: #"{"error":{"code":"internal_error","message":"Internal error."}}"#)
        }
        return response
    }

    static func describe(_ error: any Error, request: Request) -> (HTTPResponseStatus, ErrorBody.Detail, HTTPHeaders) {
        switch error {
        case let error as APIError:
            return (error.status, error.detail, error.headers)
        case let error as ValidationError:
            return (.badRequest, .init(code: error.code, message: error.message, field: error.field), [:])
        case let error as ImageProcessingError:
            return (.badRequest, .init(code: "invalid_image", message: error.message, field: nil), [:])
        case let error as DecodingError:
            return (.badRequest, .init(code: "invalid_json", message: Self.describe(error), field: Self.field(error)), [:])
        case is ConnectionPoolTimeoutError:
            // Every database connection stayed busy for the pool's whole wait: the server is overloaded, not broken.
            // Logged, so an operator (or a red CI run) can tell an overloaded pool from a database failure.
            request.logger.warning("database pool wait ran out; answered 503 busy", metadata: ["path": "\(request.url.path)"])
            return describe(APIError.busy, request: request)
        case let error where TransientDatabaseError.isTransient(error):
            // Nothing was stored and the same request may succeed in a moment; what failed is for the log only.
            request.logger.warning(
                "database failure answered 503 busy", metadata: ["path": "\(request.url.path)", "error": "\(String(reflecting: error))"])
            return describe(APIError.busy, request: request)
        case let error as any AbortError where [.unsupportedMediaType, .unprocessableEntity].contains(error.status):
            // Vapor's "no content type" / "cannot decode": a 400 that says what to send (every route documents 400).
            return (.badRequest, .init(code: "invalid_body", message: Self.bodyHint(request), field: nil), [:])
        case let error as any AbortError:
            let code = error.status == .notFound ? "not_found" : error.status == .payloadTooLarge ? "too_large" : "bad_request"
            return (error.status, .init(code: code, message: error.reason, field: nil), error.headers)
        default:
            let message = CorrelatedError.publicMessage(
                code: "internal_error", detail: String(reflecting: error), logger: request.logger,
                metadata: ["path": "\(request.url.path)"])
            return (.internalServerError, .init(code: "internal_error", message: message, field: nil), [:])
        }
    }

    /// What the route reads: a JSON object, or multipart/form-data for uploads.
    static func bodyHint(_ request: Request) -> String {
        let multipart = ["/v1/edit", "/v1/mask/auto", "/v1/images/edits"].contains(request.url.path)
        return multipart
            ? "The body must be multipart/form-data (Content-Type: multipart/form-data; boundary=…) with the fields this endpoint documents."
            : "The body must be a JSON object (Content-Type: application/json) with the fields this endpoint documents."
    }

    private static func field(_ error: DecodingError) -> String? {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
        @unknown default:
            return nil
        }
        return path.isEmpty ? nil : path.map(\.stringValue).joined(separator: ".")
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): "The value has the wrong type; expected \(type)."
        case .valueNotFound(let type, _): "A value of type \(type) is required."
        case .keyNotFound(let key, _): "The field '\(key.stringValue)' is required."
        case .dataCorrupted(let context): "The body is not valid JSON: \(context.debugDescription)"
        @unknown default: "The body could not be read."
        }
    }
}
