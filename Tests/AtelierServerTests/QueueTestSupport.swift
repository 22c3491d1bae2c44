import AsyncHTTPClient
import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import NIOCore
import Synchronization
import Testing
import Vapor

/// A clock the test moves by hand (Unix seconds).
final class ManualClock: Sendable {
    private let value: Mutex<Double>

    init(_ start: Double = 1_000_000) { value = Mutex(start) }

    var now: Double { value.withLock { $0 } }
    var clock: AtelierClock { AtelierClock { [self] in self.now } }
    func advance(by seconds: Double) { value.withLock { $0 += seconds } }
}

/// One parsed server-sent event.
struct SSEFrame: Sendable, Equatable {
    var id: String?
    var event: String?
    var data: String

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
    }
    var seq: Int? { json["seq"] as? Int }
}

/// Reads `text/event-stream` frames from a streaming AsyncHTTPClient body.
struct SSEReader {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var buffer = ""
    let status: HTTPResponseStatus

    init(_ response: HTTPClientResponse) {
        status = response.status
        iterator = response.body.makeAsyncIterator()
    }

    /// The next event (comments and `retry:` skipped); nil at the end of the stream.
    mutating func next() async throws -> SSEFrame? {
        while true {
            if let range = buffer.range(of: "\n\n") {
                let block = String(buffer[..<range.lowerBound])
                buffer.removeSubrange(..<range.upperBound)
                var frame = SSEFrame(data: "")
                var isEvent = false
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("id: ") { frame.id = String(line.dropFirst(4)); isEvent = true }
                    if line.hasPrefix("event: ") { frame.event = String(line.dropFirst(7)); isEvent = true }
                    if line.hasPrefix("data: ") { frame.data += String(line.dropFirst(6)); isEvent = true }
                }
                if isEvent { return frame }
                continue
            }
            guard let chunk = try await iterator.next() else { return nil }
            buffer += String(buffer: chunk)
        }
    }

    /// Reads `count` events.
    mutating func next(_ count: Int) async throws -> [SSEFrame] {
        var frames: [SSEFrame] = []
        while frames.count < count, let frame = try await next() { frames.append(frame) }
        return frames
    }
}

extension Application {
    /// Starts the HTTP server on a free port of 127.0.0.1 and returns the port.
    func startServer() async throws -> Int {
        http.server.configuration.hostname = "127.0.0.1"
        http.server.configuration.port = 0
        try await server.start()
        return try #require(http.server.shared.localAddress?.port)
    }

    /// Opens an SSE stream on a running server.
    func openEvents(port: Int, path: String, lastEventID: String? = nil, client: HTTPClient = .shared) async throws -> SSEReader {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/\(path)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        return SSEReader(try await client.execute(request, timeout: .seconds(30)))
    }

    func job(_ id: String) async throws -> [String: Any] {
        try await send(.GET, "v1/jobs/\(id)").json
    }

    func jobRecord(_ id: String) async throws -> JobRecord {
        try #require(try await JobRecord.find(UUID(uuidString: id), on: db))
    }

    /// Creates a generate job and returns its id.
    func enqueueGenerate(_ body: [String: Any] = ["prompt": "a quiet harbour", "size": "1024x1024"]) async throws -> String {
        let response = try await postJSON("v1/generate", body)
        #expect(response.status == .accepted, "\(response.json)")
        return try #require(response.json["id"] as? String)
    }

    /// Waits (bounded) until the hub reports a terminal event for `jobID`, then returns the job.
    func awaitEnd(of jobID: String, within seconds: Double = 20) async throws -> [String: Any] {
        let id = try #require(UUID(uuidString: jobID))
        let hub = atelier.hub
        let (subscription, events) = await hub.subscribe(.init(owner: nil, jobID: id))
        defer { Task { await hub.unsubscribe(subscription) } }
        if let record = try await JobRecord.find(id, on: db), try record.jobStatus.isFinished { return try await job(jobID) }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(seconds))
            await hub.unsubscribe(subscription)
        }
        defer { timeout.cancel() }
        for await event in events where event.isTerminal { break }
        return try await job(jobID)
    }

    /// Runs a worker loop in the background (registered as this app's worker); `stop` ends it.
    func runWorker() -> (worker: JobWorker, stop: @Sendable () async -> Void) {
        let worker = makeJobWorker()
        jobWorker = worker
        let task = Task { await worker.run() }
        let hub = atelier.hub
        return (
            worker,
            {
                task.cancel()
                await hub.wakeWorkers()
                await task.value
            }
        )
    }

    /// Files under the blob folder for one job.
    func blobFiles(of jobID: String) -> [String] {
        let folder = URL(fileURLWithPath: atelier.config.dataDirectory)
            .appendingPathComponent("blobs/jobs/\(jobID.lowercased())")
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { !$0.hasSuffix("/") && $0.contains(".") }
    }
}

extension StandInServer {
    func calls() async throws -> Int { try await stats()["calls"] as? Int ?? -1 }
}

/// A test config that talks to the in-process stand-in through the real OpenAI client. The upstream timeout is 60 s:
/// the stand-in shares the test process's two cores with the whole lane, where a 20 s timeout ran out for a
/// sixteen-image edit (three attempts, failed) and for a job of a one-attempt test. Tests about timeouts set their own.
func standInConfig(_ standIn: StandInServer, timeout: Int = 60, maxAttempts: Int = 3) throws -> AtelierConfig {
    try AtelierConfig.testing(
        openAI: .init(apiKey: "sk-test", baseURL: standIn.baseURL, timeoutSeconds: timeout), maxAttempts: maxAttempts)
}
