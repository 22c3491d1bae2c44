import AtelierCore
import Foundation
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
        /// Exactly one element.
        let head: AsyncStream<Head>
        /// After `.upstream`: the body's parts up to `.end` or `.cutShort`.
        let body: ForwardedBody
    }

    private struct Waiting {
        var head: AsyncStream<Head>.Continuation
        var body: ForwardedBody
    }

    private let waiting = Mutex<[UUID: Waiting]>([:])

    func listen(_ jobID: UUID) -> Listener {
        let (head, headContinuation) = AsyncStream.makeStream(of: Head.self)
        let body = ForwardedBody()
        waiting.withLock { $0[jobID] = Waiting(head: headContinuation, body: body) }
        return Listener(head: head, body: body)
    }

    /// The job ended (or its caller left) before an upstream answer started: the listener reads the stored job.
    func stopListening(_ jobID: UUID) {
        guard let listener = waiting.withLock({ $0.removeValue(forKey: jobID) }) else { return }
        listener.head.yield(.jobEnded)
        listener.head.finish()
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
        ProviderResponseTap(paced: { [self] part, written in
            switch part {
            case .start(let contentType, let length):
                guard let listener = waiting.withLock({ $0.removeValue(forKey: jobID) }) else { return false }
                attached.set(listener.body)
                listener.head.yield(.upstream(contentType: contentType, length: length))
                listener.head.finish()
            case .bytes:
                guard let body = attached.get() else { written(); return false }
                body.send(part, written: written)
            case .end, .cutShort:
                guard let body = attached.take() else { return false }
                body.send(part)
            }
            return true
        })
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
