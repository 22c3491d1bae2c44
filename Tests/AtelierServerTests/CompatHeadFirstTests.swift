import AsyncHTTPClient
import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Synchronization
import Testing
import Vapor

/// The compatible route forwards the upstream's answer through AsyncHTTPClient's delegate API: the caller has the
/// head (with the upstream's length) as soon as the upstream's head arrived, and each part as it came, while the
/// upstream is still answering; the rest follows when it goes on, and that whole answer is what gets stored.
@Suite struct CompatHeadFirstTests {
    @Test(arguments: [0, 100_000])
    func theCallerHasTheHeadWhileTheUpstreamIsStillAnswering(stalledAfter bytes: Int) async throws {
        try await CompatHeadFirstTests.withWorkingApp { app, standIn in
            // The stand-in sends its head and `bytes` of the body, then holds the rest (15 s at most).
            try await standIn.inject([["kind": "stall", "bytes": bytes, "seconds": 15]])
            let port = try Self.serve(app)
            do {
                let response = try await HTTPClient.shared.execute(Self.generation(port: port), timeout: .seconds(60))
                #expect(response.status == .ok)
                let length = try #require(response.headers.first(name: "content-length").flatMap(Int.init))
                var body = ByteBuffer()
                var parts = response.body.makeAsyncIterator()
                while body.readableBytes < bytes, var part = try await parts.next() { body.writeBuffer(&part) }
                #expect(body.readableBytes == bytes)
                // The upstream was still holding the rest: the head and what came reached the caller before it.
                #expect(try await standIn.release() == 1, "the caller had the head only after the upstream's whole body")
                while var part = try await parts.next() { body.writeBuffer(&part) }
                #expect(body.readableBytes == length)
                let answer = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                let b64 = try #require((answer?["data"] as? [[String: Any]])?.first?["b64_json"] as? String)
                let jobID = try #require(response.headers.first(name: "x-atelier-job-id"))
                let job = try await app.send(.GET, "v1/jobs/\(jobID)?wait=30").json
                #expect(job["status"] as? String == "succeeded", "\(job)")
                let url = try #require(job[path: "images.0.url"] as? String)
                let stored = try await app.send(.GET, String(url.dropFirst()))
                #expect(Data(stored.body.readableBytesView) == Data(base64Encoded: b64), "the stored image is the one answered")
            } catch {
                await app.server.shutdown()
                throw error
            }
            await app.server.shutdown()
        }
    }

    /// A forwarded event stream whose `error` event fails the attempt still reaches the caller whole, as the upstream
    /// sent it (the decode stopping does not cut the caller's answer short); the job is retried by the usual rules.
    @Test func anErrorEventMidStreamReachesTheCallerWithTheStreamsOwnEnd() async throws {
        try await CompatHeadFirstTests.withWorkingApp { app, standIn in
            try await standIn.inject([["kind": "stream_error"]])
            let response = try await app.postJSON(
                "v1/images/generations",
                [
                    "prompt": "a lighthouse", "model": "gpt-image-1.5", "size": "1024x1024", "quality": "low",
                    "stream": true, "partial_images": 2,
                ])
            #expect(response.status == .ok && response.headers.contentType?.subType == "event-stream")
            let text = String(buffer: response.body)
            #expect(text.contains("event: image_generation.partial_image"))
            #expect(text.hasSuffix("\n\n") && text.contains("event: error"), "the stream ends after its error event")
            let jobID = try #require(response.headers.first(name: "x-atelier-job-id"))
            let job = try await app.send(.GET, "v1/jobs/\(jobID)?wait=30").json
            #expect(job["status"] as? String == "succeeded", "a server error is retried: \(job)")
            #expect(try await standIn.stats()["generations"] as? Int == 2)
        }
    }

    /// A test app on the real client and the stand-in, with a worker running.
    static func withWorkingApp(_ body: (Application, StandInServer) async throws -> Void) async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try UpstreamEndToEndTests.config(standIn)) { app in
                let worker = app.makeJobWorker()
                let running = Task { await worker.run() }
                defer { running.cancel() }
                try await body(app, standIn)
            }
        }
    }

    /// Serves `app` on 127.0.0.1 (a free port), so a real client sees when the head and each part arrive.
    static func serve(_ app: Application) throws -> Int {
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        try app.server.start()
        return try #require(app.http.server.shared.localAddress?.port)
    }

    static func generation(port: Int) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/images/generations")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer local-tool")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(
            ByteBuffer(string: #"{"prompt":"a lighthouse","model":"gpt-image-1.5","size":"1024x1024","quality":"low"}"#))
        return request
    }
}

/// `ForwardedBody`'s back-pressure: parts before the caller's body started never wait; after, up to `window` bytes
/// may be unwritten, then a part's `written` (and with it the upstream read) waits for the caller's socket; a
/// failed write (the caller left) counts as taken.
@Suite struct ForwardedBodyPacingTests {
    struct CallerLeft: Error {}

    final class HeldWriter: BodyStreamWriter, Sendable {
        let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let writes = Mutex<[(result: BodyStreamResult, promise: EventLoopPromise<Void>?)]>([])
        func write(_ result: BodyStreamResult, promise: EventLoopPromise<Void>?) {
            writes.withLock { $0.append((result, promise)) }
        }
        /// Everything queued on the loop so far has run.
        func settle() async throws { try await eventLoop.submit {}.get() }
        var sizes: [Int] {
            writes.withLock { $0.map { if case .buffer(let buffer) = $0.result { buffer.readableBytes } else { -1 } } }
        }
    }

    @Test func aPartWaitsForTheCallerOnlyBeyondTheWindowAndAFailedWriteLetsItGo() async throws {
        let body = ForwardedBody()
        let writer = HeldWriter()
        let released = Atomic<Int>(0)
        let part = ForwardedBody.window * 6 / 10
        func send() { body.send(.bytes(Data(count: part)), written: { released.add(1, ordering: .relaxed) }) }
        send()
        send()
        #expect(released.load(ordering: .relaxed) == 2, "before the body started nothing waits")
        try await writer.eventLoop.submit { body.start(writer) }.get()
        #expect(writer.sizes == [part, part])
        send()
        try await writer.settle()
        #expect(writer.sizes == [part, part, part])
        #expect(released.load(ordering: .relaxed) == 2, "1.8 windows unwritten: the third part waits")
        writer.writes.withLock { $0[0].promise }?.succeed()
        try await writer.settle()
        #expect(released.load(ordering: .relaxed) == 2, "still 1.2 windows unwritten")
        writer.writes.withLock { $0[1].promise }?.fail(CallerLeft())
        try await writer.settle()
        #expect(released.load(ordering: .relaxed) == 3, "a failed write counts as taken")
        body.send(.end)
        try await writer.settle()
        #expect(writer.sizes.last == -1)
    }

    @Test func anEmptyWriteFlushesTheHeadWhenNothingCameYet() async throws {
        let body = ForwardedBody()
        let writer = HeldWriter()
        try await writer.eventLoop.submit { body.start(writer) }.get()
        #expect(writer.sizes == [0], "an empty buffer, written (and flushed) before any part came")
        body.send(.end)
    }

    @Test func onTheCallersLoopAPartIsWrittenAtOnce() async throws {
        let body = ForwardedBody()
        let writer = HeldWriter()
        let sizes = try await writer.eventLoop.submit {
            body.start(writer)
            body.send(.bytes(Data(count: 10)))
            return writer.sizes  // in the same turn of the loop: nothing was queued behind it
        }.get()
        #expect(sizes == [0, 10])
        body.send(.end)
    }

    @Test func aTapIsPlacedOnItsListenersLoopWhileItListens() {
        let taps = ResponseTaps()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let job = UUID()
        #expect(taps.tap(for: job).tap.placement == nil)
        _ = taps.listen(job, on: loop, logger: Logger(label: "test"))
        #expect(taps.tap(for: job).tap.placement === loop)
        taps.stopListening(job)
        #expect(taps.tap(for: job).tap.placement == nil)
    }
}
