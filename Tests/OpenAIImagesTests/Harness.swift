import AsyncHTTPClient
import AtelierCore
import AtelierTesting
import Foundation
import Logging
import NIOCore
import OpenAIStandIn
import Vapor

@testable import OpenAIImages

/// Signals the index of each request the stand-in records.
final class RequestSignal: @unchecked Sendable {
    let stream: AsyncStream<Int>
    let continuation: AsyncStream<Int>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    }
}

/// One stand-in on 127.0.0.1:<free port> plus one HTTPClient; both torn down even when the body throws.
struct Harness {
    let port: Int
    let http: HTTPClient
    let logs: CapturedLogs
    let logger: Logger
    let signal: RequestSignal

    static let apiKey = "sk-test-SECRET-0123456789abcdef"

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    func configuration(
        key: String = Harness.apiKey, organization: String? = nil, project: String? = nil, timeout: Duration = .seconds(20)
    ) -> OpenAIConfiguration {
        OpenAIConfiguration(apiKey: key, baseURL: baseURL, organization: organization, project: project, timeout: timeout)
    }

    func client(_ configuration: OpenAIConfiguration? = nil) -> OpenAIImagesClient {
        OpenAIImagesClient(httpClient: http, configuration: configuration ?? self.configuration(), logger: logger)
    }

    func provider(_ configuration: OpenAIConfiguration? = nil) -> OpenAIImageProvider {
        OpenAIImageProvider(client: client(configuration))
    }

    /// Queues faults on the stand-in.
    func inject(_ faultsJSON: String) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/_standin/faults")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: faultsJSON))
        let response = try await http.execute(request, timeout: .seconds(10))
        precondition(response.status == .ok, "fault injection failed: \(response.status)")
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    func get(_ path: String) async throws -> (status: Int, body: ByteBuffer) {
        let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
        return (Int(response.status.code), try await response.body.collect(upTo: 256 << 20))
    }

    /// The recorded requests, oldest first.
    func recorded() async throws -> [[String: Any]] {
        let (_, body) = try await get("/_standin/requests")
        return try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as! [[String: Any]]
    }

    /// A raw POST to the stand-in (for what our client never sends).
    func post(_ path: String, contentType: String, body: ByteBuffer, key: String? = Harness.apiKey) async throws -> (
        status: Int, json: [String: Any]
    ) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(body)
        let response = try await http.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 256 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
        return (Int(response.status.code), json)
    }

    static func run<T>(
        options: StandInOptions = StandInOptions(), client: (inout HTTPClient.Configuration) -> Void = { _ in },
        _ body: (Harness) async throws -> T
    ) async throws -> T {
        let signal = RequestSignal()
        var options = options
        let userHook = options.onRequestRecorded
        options.onRequestRecorded = { index in
            userHook?(index)
            signal.continuation.yield(index)
        }
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.timeout = .init(connect: .seconds(2))
        client(&httpConfiguration)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let logs = CapturedLogs()
        var logger = Logger(label: "openai-images-tests") { _ in CapturingLogHandler(logs: logs) }
        logger.logLevel = .trace
        do {
            try OpenAIStandIn.configure(app, options: options)
            try await app.server.start()
            guard let port = app.http.server.shared.localAddress?.port else {
                throw HarnessError.noPort
            }
            let harness = Harness(port: port, http: http, logs: logs, logger: logger, signal: signal)
            let result = try await body(harness)
            try await http.shutdown()
            await app.server.shutdown()
            try await app.asyncShutdown()
            return result
        } catch {
            try? await http.shutdown()
            await app.server.shutdown()
            try? await app.asyncShutdown()
            throw error
        }
    }

    enum HarnessError: Error { case noPort }
}
