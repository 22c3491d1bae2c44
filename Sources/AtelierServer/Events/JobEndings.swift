import Foundation
import NIOCore
import Synchronization

/// The jobs whose terminal event this instance's hub delivered lately, and callers waiting for one job's end as a
/// promise on their event loop: no task, no actor hop and no read of the job (the compatible routes' fast path,
/// `UpstreamPassThrough.first`).
///
/// Why no read is needed: a caller takes a `mark` before its job is admitted, so the job's terminal event, if it
/// was delivered before the caller follows, was delivered after the mark. The last `remembered` endings are kept,
/// so while fewer endings than that came after the mark, a job not among them has not ended yet (its event is
/// still to come, and reaches the follower). Otherwise `follow` cannot tell and answers nil: the caller then
/// subscribes and reads the job as every other waiter does (`JobResponder.waitForEndEvent`).
final class JobEndings: Sendable {
    static let remembered = 4096

    private struct Waiter {
        let id: Int
        let promise: EventLoopPromise<JobEvent?>
    }

    private struct State {
        /// Terminal events delivered so far (a `mark`).
        var endings = 0
        /// The last `remembered` jobs that ended, oldest at `next` once full.
        var recent: [UUID] = []
        var recentSet: Set<UUID> = []
        var next = 0
        var waiters: [UUID: [Waiter]] = [:]
        var nextWaiter = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// Taken before a job is admitted, for `follow`.
    func mark() -> Int { state.withLock { $0.endings } }

    /// Tests only: the callers waiting.
    var waiting: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }

    /// A future on `eventLoop` completed with `jobID`'s terminal event when it is delivered, or with nil after
    /// `timeout` or when the hub finishes. Nil when it cannot tell that the job has not ended yet (its ending is
    /// among the recent ones, or more endings than are remembered came after `mark`, or the hub has finished).
    func follow(_ jobID: UUID, since mark: Int, on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<JobEvent?>? {
        let promise = eventLoop.makePromise(of: JobEvent?.self)
        let id: Int? = state.withLock { state in
            guard !state.closed, state.endings - mark <= Self.remembered, !state.recentSet.contains(jobID) else { return nil }
            state.nextWaiter += 1
            state.waiters[jobID, default: []].append(Waiter(id: state.nextWaiter, promise: promise))
            return state.nextWaiter
        }
        guard let id else {
            promise.succeed(nil)
            return nil
        }
        let expiry = eventLoop.scheduleTask(in: timeout) { [self] in expire(jobID, waiter: id) }
        // Cancelled when the job ends (the waiter is gone then), or failed when the loop shuts down (the wait ends).
        expiry.futureResult.whenFailure { [self] _ in expire(jobID, waiter: id) }
        promise.futureResult.whenComplete { _ in expiry.cancel() }
        return promise.futureResult
    }

    private func expire(_ jobID: UUID, waiter id: Int) {
        let expired = state.withLock { state -> Waiter? in
            guard let index = state.waiters[jobID]?.firstIndex(where: { $0.id == id }) else { return nil }
            defer { if state.waiters[jobID]?.isEmpty == true { state.waiters[jobID] = nil } }
            return state.waiters[jobID]?.remove(at: index)
        }
        expired?.promise.succeed(nil)
    }

    /// The hub delivered `event`: a terminal one ends its job's followers' waits and is remembered.
    func delivered(_ event: JobEvent) {
        guard event.isTerminal else { return }
        let waiters = state.withLock { state in
            state.endings += 1
            if state.recentSet.insert(event.jobID).inserted {
                if state.recent.count < Self.remembered {
                    state.recent.append(event.jobID)
                } else {
                    state.recentSet.remove(state.recent[state.next])
                    state.recent[state.next] = event.jobID
                    state.next = (state.next + 1) % Self.remembered
                }
            }
            return state.waiters.removeValue(forKey: event.jobID)
        }
        waiters?.forEach { $0.promise.succeed(event) }
    }

    /// The hub finished (shutdown): every wait ends with nil, and nothing more is followed.
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap { $0 }
        }
        waiters.forEach { $0.promise.succeed(nil) }
    }
}
