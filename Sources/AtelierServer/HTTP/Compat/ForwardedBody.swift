import AtelierCore
import OpenAIImages
import Synchronization
import Vapor

/// The body of an answer forwarded from the upstream (`UpstreamPassThrough`): each part the worker's tap sends is
/// written straight onto the caller's connection, on its event loop, with no task, stream or await per chunk (each
/// of those was a thread hop both ways; the body took 3× the direct call's time). Parts that arrive before Vapor
/// starts the body (while the head goes back through the middleware) wait here and go out as soon as it does.
/// The worker never waits for the caller: a slow caller's bytes queue in the channel, as they did in the stream.
final class ForwardedBody: Sendable {
    private struct State {
        var pending: [ProviderResponseTap.Part] = []
        var writer: (any BodyStreamWriter)?
        var ended = false
    }

    private struct CutShort: Error {}

    private let state = Mutex(State())

    /// A part from the tap, in the order the upstream sent it.
    func send(_ part: ProviderResponseTap.Part) {
        state.withLock { state in
            switch part {
            case .end, .cutShort: state.ended = true
            case .start, .bytes: break
            }
            guard let writer = state.writer else { return state.pending.append(part) }
            // Queued behind the parts `start` is writing (it runs on this loop), so the order is kept.
            writer.eventLoop.execute { Self.write(part, to: writer) }
        }
    }

    /// Vapor's body callback, on the caller's event loop: writes what came so far, then the rest as it comes.
    func start(_ writer: any BodyStreamWriter) {
        let pending = state.withLock { state in
            state.writer = writer
            defer { state.pending = [] }
            return state.pending
        }
        for part in pending { Self.write(part, to: writer) }
    }

    deinit {
        // The tap went away without an end (it always sends one; this is a guard): the caller must not hang.
        let (writer, ended) = state.withLock { ($0.writer, $0.ended) }
        if let writer, !ended { writer.eventLoop.execute { writer.write(.error(CutShort()), promise: nil) } }
    }

    private static func write(_ part: ProviderResponseTap.Part, to writer: any BodyStreamWriter) {
        switch part {
        case .bytes(let chunk): writer.write(.buffer(buffer(chunk)), promise: nil)
        case .end: writer.write(.end, promise: nil)
        // Cut short: the caller sees a broken response (as it would from OpenAI) and its SDK retries.
        case .cutShort: writer.write(.error(CutShort()), promise: nil)
        case .start: break
        }
    }

    /// The client's own buffer as it is (no copy); other chunks copied once.
    private static func buffer(_ chunk: any ResponseBodyChunk) -> ByteBuffer {
        (chunk as? ByteBufferChunk)?.buffer ?? chunk.withUnsafeBytes { ByteBuffer(bytes: $0) }
    }
}
