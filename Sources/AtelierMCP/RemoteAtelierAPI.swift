import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The REST API of a running Atelier over HTTP, authenticated with an API key (`atelier mcp`).
public struct RemoteAtelierAPI: AtelierAPI {
    /// Larger answers (a full image is at most a few tens of MB) are refused rather than held.
    static let maxResponseBytes = 128 * 1024 * 1024
    let baseURL: String
    let apiKey: String?
    let client: HTTPClient

    public init(baseURL: String, apiKey: String?, client: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.client = client
    }

    public func send(_ request: APIRequest) async throws -> APIResponse {
        var outgoing = HTTPClientRequest(url: baseURL + request.path)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        outgoing.headers.add(name: "User-Agent", value: "atelier-mcp")
        if let apiKey { outgoing.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let contentType = request.contentType { outgoing.headers.add(name: "Content-Type", value: contentType) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(outgoing, timeout: .seconds(120))
        let body = try await response.body.collect(upTo: Self.maxResponseBytes)
        return APIResponse(
            status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"),
            body: Data(body.readableBytesView))
    }
}
