import AtelierCore
import Foundation
import Logging
import NIOCore
import Synchronization

/// The fast path of the OpenAI-compatible routes on this instance: a caller waiting for its job listens here, and
/// the worker attempt that runs the job calls the upstream with `tap(for:)`. When that attempt's 2xx head arrives,
/// the listener gets it and then the body's bytes as they come, while the worker decodes, stores and commits the
/// same answer (write-behind). A listener is served by one attempt only; if the job ends first (an upstream
/// refusal, another instance ran it, a provider without an upstream), the listener is told and reads the stored job.
final class ResponseTaps: Sendable {
    enum Head: Sendable {
        /// `length`: the body's byte count when the upstream announced it (and the bytes are forwarded as they are).
        case upstream(contentType: String, length: Int?)
        case jobEnded
    }

    struct Listener: Sendable {
        /// Completed on the caller's event loop, exactly once; synchronously when the upstream's head arrives on
        /// that loop (the upstream call was placed there, `ProviderResponseTap.placement`).
        let head: EventLoopFuture<Head>
        /// After `.upstream`: the body's parts up to `.end` or `.cutShort`.
        let body: ForwardedBody
    }

    private struct Waiting {
        var head: EventLoopPromise<Head>
        var body: ForwardedBody
    }

    private let waiting = Mutex<[UUID: Waiting]>([:])

    /// A caller on `eventLoop` waits for `jobID`'s answer; the job's upstream call is placed on that loop when it
    /// starts after this.
    func listen(_ jobID: UUID, on eventLoop: any EventLoop, logger: Logger) -> Listener {
        let head = eventLoop.makePromise(of: Head.self)
        let body = ForwardedBody { step, detail in FastPathTrace.mark(step, job: jobID, logger: logger, detail: detail) }
        waiting.withLock { $0[jobID] = Waiting(head: head, body: body) }
        return Listener(head: head.futureResult, body: body)
    }

    /// The job ended (or its caller left) before an upstream answer started: the listener reads the stored job.
    func stopListening(_ jobID: UUID) {
        waiting.withLock({ $0.removeValue(forKey: jobID) })?.head.succeed(.jobEnded)
    }

    var listening: Int { waiting.withLock { $0.count } }

    /// The tap of one worker attempt of `jobID`, and whether it forwarded an answer to a caller.
    struct AttemptTap: Sendable {
        let tap: ProviderResponseTap
        fileprivate let attached: AttachedBody
        /// A caller was sent this attempt's answer (or its start): the job must not run upstream again.
        var forwarded: Bool { attached.wasAttached }
    }

    /// The tap one worker attempt of `jobID` calls the upstream with. It does nothing unless a caller is listening
    /// when the attempt's 2xx head arrives.
    func tap(for jobID: UUID) -> AttemptTap {
        let attached = AttachedBody()
        return AttemptTap(tap: tap(for: jobID, attached: attached), attached: attached)
    }

    private func tap(for jobID: UUID, attached: AttachedBody) -> ProviderResponseTap {
        ProviderResponseTap(
            paced: { [self] part, written in
                switch part {
                case .start(let contentType, let length):
                    guard let listener = waiting.withLock({ $0.removeValue(forKey: jobID) }) else { return false }
                    attached.set(listener.body)
                    listener.body.trace("upstream_head", nil)
                    listener.head.succeed(.upstream(contentType: contentType, length: length))
                case .bytes:
                    guard let body = attached.get() else { written(); return false }
                    body.send(part, written: written)
                case .end, .cutShort:
                    guard let body = attached.take() else { return false }
                    body.send(part)
                }
                return true
            }, placement: { [self] in waiting.withLock { $0[jobID]?.head.futureResult.eventLoop } })
    }

    fileprivate final class AttachedBody: Sendable {
        private let body = Mutex<ForwardedBody?>(nil)
        private let attached = Atomic<Bool>(false)
        var wasAttached: Bool { attached.load(ordering: .acquiring) }
        func set(_ forwarded: ForwardedBody) {
            body.withLock { $0 = forwarded }
            attached.store(true, ordering: .releasing)
        }
        func get() -> ForwardedBody? { body.withLock { $0 } }
        func take() -> ForwardedBody? {
            body.withLock { value in
                defer { value = nil }; return value
            }
        }
    }
}
