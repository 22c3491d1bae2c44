import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
import Vapor

/// A webhook receiver on 127.0.0.1 (a free port): records every request and answers with the next scripted status
/// (204 once the script is used up); `.hang` holds its answer until the test ends.
final class WebhookReceiver: Sendable {
    enum Reply: Sendable { case status(Int), redirect, hang }

    struct Received: Sendable {
        var headers: [String: String]
        var body: Data
    }

    let port: Int
    private let state: Mutex<(script: [Reply], received: [Received])>
    /// Requests held by `.hang`, and tests waiting for a number of requests.
    private let waiters = Mutex<
        (released: Bool, held: [CheckedContinuation<Void, Never>], counting: [(Int, CheckedContinuation<Void, Never>)])
    >((false, [], []))

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var received: [Received] { state.withLock { $0.received } }

    private init(port: Int, script: [Reply]) {
        self.port = port
        self.state = Mutex((script, []))
    }

    static func run<T>(_ script: [Reply] = [], _ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let box = Box()
        return try await withLoopbackServer(
            logLevel: .critical,
            configure: { app in
                app.on(.POST, "hook", body: .collect(maxSize: "4mb")) { req async throws -> Response in
                    let receiver = try #require(box.receiver)
                    let reply = receiver.state.withLock { state -> Reply in
                        var headers: [String: String] = [:]
                        for (name, value) in req.headers { headers[name.lowercased()] = value }
                        state.received.append(Received(headers: headers, body: Data(req.body.data?.readableBytesView ?? [])))
                        return state.script.isEmpty ? .status(204) : state.script.removeFirst()
                    }
                    receiver.arrived()
                    switch reply {
                    case .status(let code): return Response(status: HTTPResponseStatus(statusCode: code))
                    case .redirect: return Response(status: .temporaryRedirect, headers: ["Location": "/hook"])
                    case .hang:
                        await receiver.hold()
                        return Response(status: .noContent)
                    }
                }
            }
        ) { port in
            let receiver = WebhookReceiver(port: port, script: script)
            box.receiver = receiver
            defer { receiver.release() }
            return try await body(receiver)
        }
    }

    /// Waits until `count` requests have arrived.
    func waitForRequests(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let ready = waiters.withLock { w in
                if received.count >= count { return true }
                w.counting.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func arrived() {
        let total = received.count
        let due = waiters.withLock { w in
            let due = w.counting.filter { $0.0 <= total }.map(\.1)
            w.counting.removeAll { $0.0 <= total }
            return due
        }
        due.forEach { $0.resume() }
    }

    private func hold() async {
        await withCheckedContinuation { continuation in
            let released = waiters.withLock { w in
                if !w.released { w.held.append(continuation) }
                return w.released
            }
            if released { continuation.resume() }
        }
    }

    /// Lets every held request answer (at the end of the test, so the server can shut down).
    func release() {
        let held = waiters.withLock { w in
            w.released = true
            defer { w.held.removeAll() }
            return w.held
        }
        held.forEach { $0.resume() }
    }

    private final class Box: @unchecked Sendable { var receiver: WebhookReceiver? }
}

/// A loopback URL nothing listens on (a receiver that is down).
func unusedLoopbackURL() throws -> String {
    let socket = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
    let port = socket.localAddress?.port ?? 9
    try socket.close().wait()
    return "http://127.0.0.1:\(port)/hook"
}

extension AtelierConfig {
    /// The test configuration with loopback receivers allowed and a retry schedule a test can step through.
    static func webhookTesting(
        access: Access = .localTesting, retryBase: Double = 10, maxAge: Double = 3600, timeout: Double = 10
    ) throws -> AtelierConfig {
        var config = try AtelierConfig.testing(access: access)
        config.webhooks.allowPrivate = true
        config.webhooks.retryBaseSeconds = retryBase
        config.webhooks.maxAgeSeconds = maxAge
        config.webhooks.timeoutSeconds = timeout
        return config
    }
}

extension Application {
    /// Registers an endpoint through the API; returns (id, secret).
    func registerWebhook(
        _ url: String, events: [String] = ["job.succeeded", "job.failed", "job.canceled"],
        headers: HTTPHeaders = [:]
    ) async throws -> (id: String, secret: String) {
        let response = try await postJSON("v1/webhooks", ["url": url, "events": events], headers: headers)
        #expect(response.status == .created, "\(response.json)")
        return (try #require(response.json["id"] as? String), try #require(response.json["secret"] as? String))
    }

    func deliveries(of webhookID: String, headers: HTTPHeaders = [:]) async throws -> [[String: Any]] {
        let response = try await send(.GET, "v1/webhooks/\(webhookID)/deliveries", headers: headers)
        #expect(response.status == .ok, "\(response.json)")
        return response.json["data"] as? [[String: Any]] ?? []
    }
}
