import Vapor

/// An OpenAI-shaped error: `{"error":{"message","type","param","code"}}` (all four keys, null allowed).
struct APIError: Error, Sendable {
    var status: HTTPResponseStatus
    var message: String
    var type: String = "invalid_request_error"
    var param: String?
    var code: String?
    var headers: [(String, String)] = []
    /// Extra keys inside `error` (e.g. `moderation_details`), as JSON fragments.
    var extraJSON: [String: String] = [:]

    static func invalidValue(_ param: String, _ message: String) -> APIError {
        APIError(status: .badRequest, message: message, param: param, code: "invalid_value")
    }

    static func unknownParameter(_ param: String) -> APIError {
        APIError(status: .badRequest, message: "Unknown parameter: '\(param)'.", param: param, code: "unknown_parameter")
    }

    static func missing(_ param: String) -> APIError {
        APIError(
            status: .badRequest, message: "Missing required parameter: '\(param)'.", param: param,
            code: "missing_required_parameter")
    }

    static func modelNotFound(_ model: String) -> APIError {
        APIError(
            status: .notFound, message: "The model `\(model)` does not exist or you do not have access to it.",
            code: "model_not_found")
    }

    func body() -> ByteBuffer {
        func quote(_ text: String?) -> String {
            guard let text else { return "null" }
            let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
            let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
            return String(array.dropFirst().dropLast())
        }
        var inner = "\"message\":\(quote(message)),\"type\":\(quote(type)),\"param\":\(quote(param)),\"code\":\(quote(code))"
        for (key, fragment) in extraJSON.sorted(by: { $0.key < $1.key }) { inner += ",\(quote(key)):\(fragment)" }
        return ByteBuffer(string: "{\"error\":{\(inner)}}")
    }

    func response(requestID: String) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json")
        headers.add(name: "x-request-id", value: requestID)
        headers.add(name: "openai-version", value: "2020-10-01")
        for (name, value) in headers_ { headers.add(name: name, value: value) }
        return Response(status: status, headers: headers, body: .init(buffer: body()))
    }

    private var headers_: [(String, String)] { headers }
}
