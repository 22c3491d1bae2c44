import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// Small helpers shared by the server suites.
extension Application {
    func postJSON(_ path: String, _ body: [String: Any], headers: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var captured: TestingHTTPResponse?
        try await testing().test(.POST, path, headers: headers, beforeRequest: { req in
            req.headers.contentType = .json
            req.body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))
        }, afterResponse: { res in captured = res })
        return try #require(captured)
    }

    func send(_ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) async throws -> TestingHTTPResponse {
        var captured: TestingHTTPResponse?
        try await testing().test(method, path, headers: headers, beforeRequest: { req in
            if let body { req.body = body }
        }, afterResponse: { res in captured = res })
        return try #require(captured)
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
