import Foundation
import MCP

/// The Atelier REST API as the MCP tools see it. Every tool is a translation to `/v1` calls, so a tool call
/// passes the same checks as the REST route it uses: authentication, key scopes, rate limits, spending caps,
/// ownership and the registry's validation (with the same field errors).
///
/// Two implementations: in the server, requests go through Vapor's responder in-process (`POST /mcp`); in
/// `atelier mcp` (stdio), they go over HTTP to a running Atelier with `ATELIER_API_KEY`.
public protocol AtelierAPI: Sendable {
    func send(_ request: APIRequest) async throws -> APIResponse
}

public struct APIRequest: Sendable, Equatable {
    public enum Method: String, Sendable { case GET, POST }

    public var method: Method
    /// Path and query, e.g. `/v1/jobs?limit=5`.
    public var path: String
    public var contentType: String?
    public var body: Data?

    public init(method: Method, path: String, contentType: String? = nil, body: Data? = nil) {
        self.method = method
        self.path = path
        self.contentType = contentType
        self.body = body
    }

    public static func get(_ path: String) -> APIRequest { APIRequest(method: .GET, path: path) }

    public static func postJSON(_ path: String, _ object: [String: Any]) throws -> APIRequest {
        APIRequest(
            method: .POST, path: path, contentType: "application/json",
            body: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

public struct APIResponse: Sendable {
    public var status: Int
    public var contentType: String?
    public var body: Data

    public init(status: Int, contentType: String?, body: Data) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body as a JSON object, or nil.
    public var json: [String: Value]? { (try? JSONDecoder().decode(Value.self, from: body))?.objectValue }
}

/// An API answer that is not a success, in the API's error shape `{"error":{"code","message","field"}}`.
public struct APIFailure: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var field: String?

    public init(status: Int, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    init(_ response: APIResponse) {
        let error = response.json?["error"]?.objectValue
        self.init(
            status: response.status, code: error?["code"]?.stringValue ?? "http_\(response.status)",
            message: error?["message"]?.stringValue ?? "Atelier answered HTTP \(response.status).",
            field: error?["field"]?.stringValue)
    }

    /// The error as the API sends it, with the HTTP status.
    public var value: Value {
        ["error": ["code": .string(code), "message": .string(message), "field": field.map(Value.string) ?? .null], "status": .int(status)]
    }
}

extension AtelierAPI {
    /// Sends the request; a non-2xx answer throws `APIFailure`.
    func call(_ request: APIRequest) async throws -> APIResponse {
        let response = try await send(request)
        guard response.isSuccess else { throw APIFailure(response) }
        return response
    }

    /// Sends the request and decodes a JSON object; a non-2xx answer throws `APIFailure`.
    func object(_ request: APIRequest) async throws -> [String: Value] {
        let response = try await call(request)
        guard let json = response.json else {
            throw APIFailure(status: 502, code: "bad_response", message: "Atelier's answer to \(request.path) was not a JSON object.")
        }
        return json
    }
}
