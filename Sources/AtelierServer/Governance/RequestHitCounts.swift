import Fluent
import Foundation
import SQLKit
import Synchronization

/// SQLite's requests-per-minute hits (`CallerResolver`), decided from counts kept in memory and stored behind.
///
/// An SQLite file has one serving process (docs/DEPLOY.md), so this process's counts are the whole count. A window's
/// stored counts are read once, at its first hit (after a restart: what the process before wrote); every hit after is
/// decided at once, in arrival order, as `RateLimiter.hit(all:)` decides a batch: no write before the handler runs.
/// The hits are stored afterwards (`RequestHitCounts+Storing`): in the next admission group's transaction
/// (`GroupCommit`, no commit of their own), or, when the request's handler has ended and no transaction took its
/// hit, in one statement of their own, which `CallerResolver` awaits before it answers. So an answered request's hit
/// is on disk, as before; a crash loses only hits of requests that were not answered yet.
/// PostgreSQL keeps `RateHitBatcher`: instances share its counts there, so the database decides.
final class RequestHitCounts: Sendable {
    /// A decided hit not stored yet.
    struct Pending: Sendable {
        let ticket: UInt64
        let windowStart: Int64
        let subjects: [String]
        let cost: Int64
    }

    struct State {
        /// The window `counts` are of (`.min`: none read yet).
        var windowStart: Int64 = .min
        var counts: [String: Int64] = [:]
        var lastTicket: UInt64 = 0
        /// Decided, not taken by a transaction yet.
        var pending: [Pending] = []
        /// Taken by a transaction that has not ended yet.
        var storing: Set<UInt64> = []
        /// Requests waiting for their hit to be stored, by ticket.
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var flushing = false
        /// Statements of their own (`flush`) so far (tests read it).
        var ownStatements = 0
    }

    let state = Mutex(State())

    /// Statements that stored hits on their own, not inside another transaction.
    var ownStatements: Int { state.withLock { $0.ownStatements } }

    /// Decides `hit` and queues it to be stored; returns the decision and the ticket `persisted(_:on:)` takes.
    func hit(
        _ hit: RateLimiter.Hit, on database: any Database, clock: AtelierClock
    ) async throws -> (decision: RateLimiter.Decision, ticket: UInt64) {
        let subjects = Self.unique(hit.subjects.map(\.stored))
        while true {
            let now = clock.now()
            let start = Int64(now) / RateLimiter.window * RateLimiter.window
            if let decided = decide(subjects, cost: Int64(hit.cost), limit: hit.limit, now: now, windowStart: start) {
                return decided
            }
            let stored = try await Self.storedCounts(windowStart: start, on: database)
            state.withLock { state in
                guard state.windowStart < start else { return }  // another request read it first
                state.windowStart = start
                state.counts = stored
            }
        }
    }

    /// `hit` without waiting: decided and queued when this window's stored counts were read already, else nil.
    func decideNow(_ hit: RateLimiter.Hit, clock: AtelierClock) -> (decision: RateLimiter.Decision, ticket: UInt64)? {
        let now = clock.now()
        let start = Int64(now) / RateLimiter.window * RateLimiter.window
        return decide(Self.unique(hit.subjects.map(\.stored)), cost: Int64(hit.cost), limit: hit.limit, now: now, windowStart: start)
    }

    /// Counts the hit when `windowStart`'s counts are known (nil otherwise): the most used subject decides.
    private func decide(
        _ subjects: [String], cost: Int64, limit: Int, now: Double, windowStart: Int64
    ) -> (decision: RateLimiter.Decision, ticket: UInt64)? {
        state.withLock { state in
            guard state.windowStart == windowStart else { return nil }
            var highest: Int64 = 0
            for subject in subjects {
                let count = state.counts[subject, default: 0] + cost
                state.counts[subject] = count
                highest = max(highest, count)
            }
            state.lastTicket += 1
            state.pending.append(Pending(ticket: state.lastTicket, windowStart: windowStart, subjects: subjects, cost: cost))
            let decision = RateLimiter.decision(highest: highest, limit: limit, windowStart: windowStart, now: now)
            return (decision, state.lastTicket)
        }
    }

    /// The requests counters stored for a window.
    private static func storedCounts(windowStart: Int64, on database: any Database) async throws -> [String: Int64] {
        let rows = try await database.sql.raw(
            "SELECT subject, hits FROM rate_counters WHERE window_start = \(bind: windowStart) AND subject LIKE 'req:%'"
        ).all()
        var counts: [String: Int64] = [:]
        for row in rows {
            counts[try row.decode(column: "subject", as: String.self)] = try row.decode(column: "hits", as: Int64.self)
        }
        return counts
    }

    private static func unique(_ subjects: [String]) -> [String] {
        var seen = Set<String>()
        return subjects.filter { seen.insert($0).inserted }
    }
}
