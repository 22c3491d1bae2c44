import AtelierCore
import OpenAIImages
import Synchronization
import Vapor

/// The body of an answer forwarded from the upstream (`UpstreamPassThrough`): each part the worker's tap sends (on
/// the upstream connection's event loop, as AsyncHTTPClient's delegate receives it) is written straight onto the
/// caller's connection, on its event loop, with no task, stream or await per chunk. Parts that arrive before Vapor
/// starts the body (while the head goes back through the middleware) wait here and go out as soon as it does; when
/// there are none, an empty write flushes the head, so the caller has it before the first chunk.
/// Back-pressure: once the body started, up to `window` bytes may be written but not yet taken by the caller's
/// socket; beyond that a part's `written` waits for the caller, and with it the upstream read (not the decode).
/// A failed write (the caller left) counts as taken, so the upstream read and the job go on.
final class ForwardedBody: Sendable {
    static let window = 1 << 20

    private struct State {
        var pending: [ProviderResponseTap.Part] = []
        var writer: (any BodyStreamWriter)?
        var ended = false
        /// Bytes handed to the writer and not yet taken by the caller's socket.
        var unwritten = 0
        /// `written` of the parts that arrived while `unwritten` was over `window`.
        var paused: [ProviderResponseTap.Written] = []
        var parts = 0
    }

    private struct CutShort: Error {}

    private let state = Mutex(State())

    /// Steps along the body for `FastPathTrace` (first part in, end in, end written), with a detail.
    let trace: @Sendable (_ step: String, _ detail: String?) -> Void

    init(trace: @escaping @Sendable (_ step: String, _ detail: String?) -> Void = { _, _ in }) { self.trace = trace }

    /// A part from the tap, in the order the upstream sent it; `written` runs when the upstream may be read on.
    /// On the caller's own event loop (the upstream call was placed there) the part is written at once; from
    /// another thread it is queued on that loop behind the parts before it.
    func send(_ part: ProviderResponseTap.Part, written: @escaping ProviderResponseTap.Written = {}) {
        let (release, writer, parts) = state.withLock { state -> (Bool, (any BodyStreamWriter)?, Int) in
            switch part {
            case .end, .cutShort: state.ended = true
            case .bytes: state.parts += 1
            case .start: break
            }
            guard let writer = state.writer else {
                state.pending.append(part)
                return (true, nil, state.parts)
            }
            guard case .bytes(let chunk) = part else { return (true, writer, state.parts) }
            state.unwritten += chunk.count
            guard state.unwritten > Self.window else { return (true, writer, state.parts) }
            state.paused.append(written)
            return (false, writer, state.parts)
        }
        switch part {
        case .bytes where parts == 1: trace("body_first_part", writer == nil ? "before_start" : nil)
        case .end: trace("body_end", "parts=\(parts) same_loop=\(writer?.eventLoop.inEventLoop ?? false)")
        default: break
        }
        if let writer {
            // Queued behind the parts `start` is writing (it runs on that loop), so the order is kept.
            if writer.eventLoop.inEventLoop { write(part, to: writer) } else { writer.eventLoop.execute { self.write(part, to: writer) } }
        }
        if release { written() }
    }

    /// Vapor's body callback, on the caller's event loop: writes what came so far, then the rest as it comes.
    func start(_ writer: any BodyStreamWriter) {
        let pending = state.withLock { state in
            state.writer = writer
            state.unwritten += state.pending.reduce(0) { total, part in
                guard case .bytes(let chunk) = part else { return total }
                return total + chunk.count
            }
            defer { state.pending = [] }
            return state.pending
        }
        // The head leaves now, not with the first chunk (Vapor writes it unflushed).
        if pending.isEmpty { writer.write(.buffer(ByteBuffer()), promise: nil) }
        for part in pending { write(part, to: writer) }
    }

    deinit {
        // The tap went away without an end (it always sends one; this is a guard): the caller must not hang.
        let (writer, ended, paused) = state.withLock { ($0.writer, $0.ended, $0.paused) }
        paused.forEach { $0() }
        if let writer, !ended { writer.eventLoop.execute { writer.write(.error(CutShort()), promise: nil) } }
    }

    private func write(_ part: ProviderResponseTap.Part, to writer: any BodyStreamWriter) {
        switch part {
        case .bytes(let chunk):
            let taken = writer.eventLoop.makePromise(of: Void.self)
            taken.futureResult.whenComplete { _ in self.taken(chunk.count) }
            writer.write(.buffer(Self.buffer(chunk)), promise: taken)
        case .end:
            writer.write(.end, promise: nil)
            trace("body_end_written", nil)
        // Cut short: the caller sees a broken response (as it would from OpenAI) and its SDK retries.
        case .cutShort: writer.write(.error(CutShort()), promise: nil)
        case .start: break
        }
    }

    /// The caller's socket took `count` bytes (or the write failed): paused parts go on once under the window.
    private func taken(_ count: Int) {
        let resumed = state.withLock { state -> [ProviderResponseTap.Written] in
            state.unwritten -= count
            guard state.unwritten <= Self.window else { return [] }
            defer { state.paused = [] }
            return state.paused
        }
        resumed.forEach { $0() }
    }

    /// The client's own buffer as it is (no copy); other chunks copied once.
    private static func buffer(_ chunk: any ResponseBodyChunk) -> ByteBuffer {
        (chunk as? ByteBufferChunk)?.buffer ?? chunk.withUnsafeBytes { ByteBuffer(bytes: $0) }
    }
}
