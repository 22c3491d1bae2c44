import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// Small helpers shared by the server suites.
extension Application {
    func postJSON(_ path: String, _ body: [String: Any], headers: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        try await sendJSON(.POST, path, body, headers: headers)
    }

    func sendJSON(_ method: HTTPMethod, _ path: String, _ body: [String: Any], headers: HTTPHeaders = [:]) async throws
        -> TestingHTTPResponse
    {
        var captured: TestingHTTPResponse?
        try await testing().test(
            method, path, headers: localTool(headers, method: method),
            beforeRequest: { req in
                req.headers.contentType = .json
                req.body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))
            }, afterResponse: { res in captured = res })
        return try #require(captured)
    }

    func send(_ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) async throws -> TestingHTTPResponse
    {
        var captured: TestingHTTPResponse?
        try await testing().test(
            method, path, headers: localTool(headers, method: method),
            beforeRequest: { req in
                if let body { req.body = body }
            }, afterResponse: { res in captured = res })
        return try #require(captured)
    }

    /// With login off, a write without credentials goes as a local tool (curl, an SDK) sends it: with a bearer
    /// token, which needs no CSRF token. Tests of the browser's path send a `Host` (as browsers do), a cookie or
    /// `X-CSRF-Token` themselves and get no such token.
    private func localTool(_ headers: HTTPHeaders, method: HTTPMethod) -> HTTPHeaders {
        guard !atelier.config.access.loginRequired, !RequireCaller.isSafe(method), !headers.contains(name: .authorization),
            !headers.contains(name: .cookie), !headers.contains(name: "X-CSRF-Token"), !headers.contains(name: .host)
        else { return headers }
        var headers = headers
        headers.bearerAuthorization = BearerAuthorization(token: "local-tool")
        return headers
    }

    /// Runs the worker until nothing is due.
    func drainJobs(_ worker: JobWorker) async throws {
        while try await worker.processNext() {}
    }
}

extension TestingHTTPResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

extension Dictionary where Key == String, Value == Any {
    subscript(path path: String) -> Any? {
        var current: Any? = self
        for key in path.split(separator: ".") {
            if let index = Int(key), let array = current as? [Any] {
                current = index < array.count ? array[index] : nil
            } else {
                current = (current as? [String: Any])?[String(key)]
            }
        }
        return current
    }
}
