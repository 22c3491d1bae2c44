import AsyncHTTPClient
import Foundation
import NIOCore
import OpenAIStandIn
import Vapor

/// The OpenAI stand-in served on 127.0.0.1 (a free port) for the duration of `body`.
public struct StandInServer: Sendable {
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    public static func run<T>(
        options: StandInOptions = StandInOptions(), _ body: (StandInServer) async throws -> T
    ) async throws -> T {
        try await withLoopbackServer(configure: { try OpenAIStandIn.configure($0, options: options) }) { port in
            try await body(StandInServer(port: port))
        }
    }

    enum StandInError: Error { case badResponse(String) }

    /// Queues faults for the next matching upstream calls.
    public func inject(_ faults: [[String: Any]], match: String? = nil) async throws {
        var body: [String: Any] = ["faults": faults]
        if let match { body["match"] = match }
        _ = try await call(.POST, "/_standin/faults", json: body)
    }

    /// `GET /_standin/stats`.
    public func stats() async throws -> [String: Any] {
        try await call(.GET, "/_standin/stats") as? [String: Any] ?? [:]
    }

    /// `GET /_standin/limits`: per redacted key, images served, 429s, first and last served time.
    public func limits() async throws -> [String: Any] {
        try await call(.GET, "/_standin/limits") as? [String: Any] ?? [:]
    }

    /// `POST /_standin/quota`: every key (or one key) out of quota, or back in.
    public func setQuota(exhausted: Bool, key: String? = nil) async throws {
        var body: [String: Any] = ["exhausted": exhausted]
        if let key { body["key"] = key }
        _ = try await call(.POST, "/_standin/quota", json: body)
    }

    /// `GET /_standin/requests`.
    public func requests() async throws -> [[String: Any]] {
        try await call(.GET, "/_standin/requests") as? [[String: Any]] ?? []
    }

    /// Replaces what the stand-in's `GET /v1/models` lists (`[{"id", "shutdown_date"}]`).
    public func setModels(_ models: [[String: Any]]) async throws {
        _ = try await call(.PUT, "/_standin/models", json: models)
    }

    /// The raw bytes of a recorded file part.
    public func file(request: Int, file: Int) async throws -> Data {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/_standin/requests/\(request)/files/\(file)"),
            timeout: .seconds(10))
        return Data(try await response.body.collect(upTo: 256 << 20).readableBytesView)
    }

    fileprivate func call(_ method: HTTPMethod, _ path: String, json: Any? = nil) async throws -> Any {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let data = Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
        guard response.status.code < 300 else { throw StandInError.badResponse(String(decoding: data, as: UTF8.self)) }
        return data.isEmpty ? NSNull() : try JSONSerialization.jsonObject(with: data)
    }
}

extension StandInServer {
    /// `POST /_standin/release`: answers held by a `stall` fault go on; how many were waiting.
    public func release() async throws -> Int {
        (try await call(.POST, "/_standin/release") as? [String: Any])?["released"] as? Int ?? 0
    }
}
