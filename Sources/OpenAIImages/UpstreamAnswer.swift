import AsyncHTTPClient
import AtelierCore
import NIOCore
import NIOHTTP1
import Synchronization

/// One upstream call read through AsyncHTTPClient's delegate API: the head and every body part arrive on the
/// connection's event loop. A tap that listens (`ProviderResponseTap.start` answered true) gets the head there, at
/// once, and each part there too; the next part is read when the tap is done with the last one (the caller's
/// connection took it). The decoder gets the same buffers through `body`, off the event loop; it paces the read only
/// when more than `decodeWindow` bytes wait for it (memory per call stays bounded when the CPU is short), so a
/// caller is never held back by a decoder that keeps up.
/// The tap sees `.end` when the body arrived whole and `.cutShort` when the call failed after its head.
final class UpstreamAnswer: HTTPClientResponseDelegate, Sendable {
    typealias Response = Void

    /// Bytes received and not yet taken by the decoder before the read waits for it.
    static let decodeWindow = 1 << 20

    struct Head: Sendable {
        var status: Int
        var headers: HTTPHeaders
    }

    private struct State {
        var forwarding = false
        var received = 0
        /// Bytes handed to the decoder and not yet taken by it.
        var queued = 0
        /// The read waits for this while `queued` is over the window: the decoder catching up.
        var room: EventLoopPromise<Void>?
        var complete = false
    }

    /// One element, or the call's error before its head.
    let head: AsyncThrowingStream<Head, any Error>
    private let heads: AsyncThrowingStream<Head, any Error>.Continuation
    private let parts: AsyncThrowingStream<ByteBuffer, any Error>
    private let partsIn: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let tap: ProviderResponseTap?
    private let maxBytes: Int
    private let state = Mutex(State())

    init(tap: ProviderResponseTap?, maxBytes: Int) {
        (head, heads) = AsyncThrowingStream.makeStream(of: Head.self)
        (parts, partsIn) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
        self.tap = tap
        self.maxBytes = maxBytes
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let status = Int(head.status.code)
        if (200..<300).contains(status), let tap {
            let contentType = head.headers.first(name: "content-type") ?? "application/json"
            let forwarding = tap.start(contentType: contentType, length: OpenAIImagesClient.forwardedLength(head.headers))
            state.withLock { $0.forwarding = forwarding }
        }
        heads.yield(Head(status: status, headers: head.headers))
        heads.finish()
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let loop = task.eventLoop
        let (tooMany, forwarding, room) = state.withLock { state -> (Bool, Bool, EventLoopFuture<Void>?) in
            state.received += buffer.readableBytes
            guard state.received <= maxBytes else { return (true, false, nil) }
            state.queued += buffer.readableBytes
            guard state.queued > Self.decodeWindow else { return (false, state.forwarding, nil) }
            let room = loop.makePromise(of: Void.self)
            state.room = room
            return (false, state.forwarding, room.futureResult)
        }
        guard !tooMany else { return loop.makeFailedFuture(NIOTooManyBytesError(maxBytes: maxBytes)) }
        partsIn.yield(buffer)
        guard forwarding, let tap else { return room ?? loop.makeSucceededVoidFuture() }
        let written = loop.makePromise(of: Void.self)
        tap.send(.bytes(ByteBufferChunk(buffer)), written: { written.succeed() })
        guard let room else { return written.futureResult }
        return written.futureResult.and(room).map { _ in }
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        let (room, forwarding) = state.withLock { state in
            defer { state.room = nil }
            return (state.room, state.forwarding)
        }
        room?.fail(error)
        heads.finish(throwing: error)
        partsIn.finish(throwing: error)
        // Cut short: the caller sees a broken answer, as it would from the upstream.
        if forwarding { tap?.send(.cutShort) }
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        let forwarding = state.withLock { state in
            state.complete = true
            return state.forwarding
        }
        partsIn.finish()
        if forwarding { tap?.send(.end) }
    }

    /// The decoder is done (an error answer, an error event, the end of an event stream, a failure). A call that
    /// is not forwarded ends now; a forwarded one runs to the upstream's own end (its caller gets the rest, as it
    /// would from the upstream), the parts left drained here so the window never holds it; cancellation and the
    /// timeout still end it.
    func stopReading(_ call: HTTPClient.Task<Void>) {
        guard state.withLock({ $0.forwarding && !$0.complete }) else { return call.cancel() }
        Task { for try await _ in body {} }
    }

    /// The body's parts for the decoder, in order; throws the call's error (a `CancellationError` when the reading
    /// task was cancelled before the body was complete).
    var body: Body { Body(answer: self) }

    struct Body: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let answer: UpstreamAnswer

        struct AsyncIterator: AsyncIteratorProtocol {
            let answer: UpstreamAnswer
            var parts: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator

            mutating func next() async throws -> ByteBuffer? {
                guard let part = try await parts.next() else {
                    // The stream also ends when the task reading it is cancelled: that is not a complete body.
                    guard answer.state.withLock({ $0.complete }) else { throw CancellationError() }
                    return nil
                }
                answer.state.withLock { state -> EventLoopPromise<Void>? in
                    state.queued -= part.readableBytes
                    guard state.queued <= UpstreamAnswer.decodeWindow else { return nil }
                    defer { state.room = nil }
                    return state.room
                }?.succeed()
                return part
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(answer: answer, parts: answer.parts.makeAsyncIterator()) }

        /// The whole body, up to `maxBytes` (an error answer).
        func collect(upTo maxBytes: Int) async throws -> ByteBuffer {
            var whole = ByteBuffer()
            for try await var part in self {
                guard whole.readableBytes + part.readableBytes <= maxBytes else { throw NIOTooManyBytesError(maxBytes: maxBytes) }
                whole.writeBuffer(&part)
            }
            return whole
        }
    }
}
