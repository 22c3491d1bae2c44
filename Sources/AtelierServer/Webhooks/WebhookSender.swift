import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One delivery attempt over the shared `HTTPClient`: checks the endpoint's address, signs the stored body with a
/// fresh timestamp, posts it, and reports the status (redirects are never followed: a 3xx is a failed attempt).
/// The whole attempt, answer included, is bounded by `timeoutSeconds`.
struct WebhookSender: Sendable {
    let client: HTTPClient
    let policy: WebhookURLPolicy
    let secrets: WebhookSecretBox
    let timeoutSeconds: Double
    let clock: AtelierClock

    struct Result: Sendable {
        var statusCode: Int?
        var error: String?
        var durationMs: Int
        var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }
    }

    private struct TimedOut: Error, CustomStringConvertible {
        var seconds: Double
        var description: String { "no answer within \(seconds.formatted()) s" }
    }

    func attempt(_ delivery: WebhookDeliveryRecord, to endpoint: WebhookRecord) async -> Result {
        let started = ContinuousClock.now
        func elapsed() -> Int {
            let duration = ContinuousClock.now - started
            return Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
        do {
            let status = try await withDeadline { try await post(delivery, to: endpoint) }
            return Result(
                statusCode: status, error: (300..<400).contains(status) ? "redirects are not followed" : nil, durationMs: elapsed())
        } catch {
            return Result(statusCode: nil, error: String(String(describing: error).prefix(300)), durationMs: elapsed())
        }
    }

    private func post(_ delivery: WebhookDeliveryRecord, to endpoint: WebhookRecord) async throws -> Int {
        let target = try await policy.target(for: endpoint.url)
        guard let key = WebhookSigner.key(from: try secrets.open(endpoint.secret)) else {
            throw WebhookSecretBox.Unavailable(description: "the endpoint's secret is not valid base64")
        }
        let body = Data(delivery.payload.utf8)
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Atelier-Webhooks/1")
        if let host = target.hostHeader { request.headers.replaceOrAdd(name: "Host", value: host) }
        for (name, value) in WebhookSigner.headers(id: delivery.messageID, timestamp: Int(clock.now()), body: body, key: key) {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await client.execute(request, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
        // The answer's body is not needed: read a little so the connection can be reused, drop the rest.
        var read = 0
        for try await chunk in response.body {
            read += chunk.readableBytes
            if read > 4096 { break }
        }
        return Int(response.status.code)
    }

    /// Runs `body`, giving up (and canceling it) a second after `timeoutSeconds`: the client's own deadline comes
    /// first and says why (say, the connection was refused), this one also bounds reading the answer.
    private func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let seconds = timeoutSeconds + 1
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                throw TimedOut(seconds: seconds)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw TimedOut(seconds: seconds) }
            return first
        }
    }
}
