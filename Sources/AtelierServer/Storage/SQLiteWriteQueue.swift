import AsyncKit
import Fluent
import NIOConcurrencyHelpers
import NIOCore

/// Lets one SQLite write transaction of this process run at a time, the others waiting in arrival order.
///
/// SQLite allows one writer per database file. Begun IMMEDIATE (`ImmediateSQLiteDatabase`), a second transaction
/// waits for the write lock inside `sqlite3_step`, and SQLiteNIO retries a busy database in a loop on a thread of
/// the pool: the waiters spin on the WAL's locks and take CPU from the transaction they wait for (profiled: 20 % of
/// the dispatch benchmark's samples). Queued here instead, a waiter holds no connection and no thread, and is
/// resumed the moment the previous transaction ends. Other processes on the same file still meet SQLite's lock.
///
/// A transaction waits at most `timeout` for its turn, then fails like an exhausted connection pool
/// (`ConnectionPoolTimeoutError`, answered 503 busy): a transaction that itself waits for another one to begin
/// (a bug) then ends in an error instead of a hang.
final class SQLiteWriteQueue: Sendable {
    private struct Waiter {
        let id: Int
        let promise: EventLoopPromise<Void>
        let timeout: Scheduled<Void>
    }
    private struct State {
        var busy = false
        var nextID = 0
        var waiters = CircularBuffer<Waiter>()
    }

    private let state = NIOLockedValueBox(State())
    let timeout: TimeAmount

    init(timeout: TimeAmount) { self.timeout = timeout }

    /// Transactions and writes waiting for their turn (not counting the one running).
    var waiting: Int { state.withLockedValue { $0.waiters.count } }

    /// Runs `work` when no other transaction of this queue runs; the next one starts when its future completes.
    func run<T>(on eventLoop: any EventLoop, _ work: @escaping @Sendable () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        acquire(on: eventLoop).flatMap { work().always { _ in self.release() } }
    }

    /// Runs `work` when no other transaction of this queue runs, in the calling task: a free turn is taken without
    /// a future (no hop to `eventLoop`, which only times a wait).
    func withTurn<T>(on eventLoop: any EventLoop, _ work: () async throws -> T) async throws -> T {
        if let waiting = enter(on: eventLoop) { try await waiting.get() }
        defer { release() }
        return try await work()
    }

    private func acquire(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        enter(on: eventLoop) ?? eventLoop.makeSucceededVoidFuture()
    }

    /// Takes the turn when it is free (nil), else joins the waiters: the future completes when the turn is theirs.
    private func enter(on eventLoop: any EventLoop) -> EventLoopFuture<Void>? {
        state.withLockedValue { state -> EventLoopFuture<Void>? in
            guard state.busy else {
                state.busy = true
                return nil
            }
            state.nextID += 1
            let id = state.nextID
            let promise = eventLoop.makePromise(of: Void.self)
            let timeout = eventLoop.scheduleTask(in: timeout) { self.giveUp(id) }
            state.waiters.append(Waiter(id: id, promise: promise, timeout: timeout))
            return promise.futureResult
        }
    }

    private func release() {
        let next = state.withLockedValue { state -> Waiter? in
            guard !state.waiters.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()  // the turn passes straight on: `busy` stays true
        }
        guard let next else { return }
        next.timeout.cancel()
        next.promise.succeed()
    }

    private func giveUp(_ id: Int) {
        let waiter = state.withLockedValue { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.promise.fail(ConnectionPoolTimeoutError.connectionRequestTimeout)
    }
}
