import Fluent
import Foundation
import SQLKit

/// Fixed one-minute windows counted in the database (`rate_counters`), one atomic upsert per hit (all subjects at once),
/// so every instance on the same PostgreSQL shares the counts.
struct RateLimiter: Sendable {
    static let window: Int64 = 60

    let database: any Database
    let clock: AtelierClock

    struct Decision: Sendable {
        var limit: Int
        var remaining: Int
        /// Seconds until the window resets.
        var resetSeconds: Int
        var allowed: Bool
    }

    /// Adds `cost` hits to each subject and decides against `limit`; the most used subject decides.
    func hit(_ subjects: [RateLimitSubject], cost: Int = 1, limit: Int) async throws -> Decision {
        try await hit(all: [Hit(subjects: subjects, cost: cost, limit: limit)])[0]
    }

    /// One hit of `hit(all:)`: its subjects, images or requests it counts, and its limit.
    struct Hit: Sendable {
        var subjects: [RateLimitSubject]
        var cost: Int = 1
        var limit: Int
    }

    /// Counts many hits in one statement (`RateHitBatcher`) and decides each as if they had been counted one after
    /// another in this order: the upsert adds each subject's total and returns its count after all of them; a hit's
    /// count is that minus what the hits after it added. One window (now) for all.
    func hit(all hits: [Hit]) async throws -> [Decision] {
        let now = clock.now()
        let start = Int64(now) / Self.window * Self.window
        let keyed = hits.map { hit in (subjects: Self.unique(hit.subjects.map(\.stored)), cost: Int64(hit.cost), limit: hit.limit) }
        var added: [String: Int64] = [:]
        var order: [String] = []
        for hit in keyed {
            for subject in hit.subjects {
                if added[subject] == nil { order.append(subject) }
                added[subject, default: 0] += hit.cost
            }
        }
        guard !order.isEmpty else { return hits.map { Self.decision(highest: 0, limit: $0.limit, windowStart: start, now: now) } }
        let values = order.map { subject -> SQLQueryString in "(\(bind: subject), \(bind: start), \(bind: added[subject]!))" }
        let rows = try await database.sql.raw(
            """
            INSERT INTO rate_counters (subject, window_start, hits) VALUES \(SQLList(values, separator: SQLRaw(", ")))
            ON CONFLICT (subject, window_start) DO UPDATE SET hits = rate_counters.hits + excluded.hits
            RETURNING subject, hits
            """
        ).all()
        var counted: [String: Int64] = [:]  // before this statement's hits, then running
        for row in rows {
            let subject = try row.decode(column: "subject", as: String.self)
            counted[subject] = try row.decode(column: "hits", as: Int64.self) - (added[subject] ?? 0)
        }
        return keyed.map { hit in
            var highest: Int64 = 0
            for subject in hit.subjects {
                counted[subject, default: 0] += hit.cost
                highest = max(highest, counted[subject]!)
            }
            return Self.decision(highest: highest, limit: hit.limit, windowStart: start, now: now)
        }
    }

    private static func unique(_ subjects: [String]) -> [String] {
        var seen = Set<String>()
        return subjects.filter { seen.insert($0).inserted }
    }

    /// `peek`'s read as a scalar expression for another statement: the most hits among `subjects` in this window,
    /// as text (NULL when none); `peeked` decides from its value.
    struct PeekRead: Sendable {
        let expression: SQLQueryString
        let windowStart: Int64
        let now: Double

        func peeked(_ value: String?, cost: Int, limit: Int) -> Decision {
            RateLimiter.decision(
                highest: (value.flatMap { Int64($0) } ?? 0) + Int64(cost), limit: limit, windowStart: windowStart, now: now)
        }
    }

    func peekRead(_ subjects: [RateLimitSubject]) -> PeekRead {
        let now = clock.now()
        let start = Int64(now) / Self.window * Self.window
        let expression: SQLQueryString =
            subjects.isEmpty
            ? "NULL"
            : "SELECT CAST(MAX(hits) AS TEXT) FROM rate_counters WHERE window_start = \(bind: start) AND subject IN (\(binds: subjects.map(\.stored)))"
        return PeekRead(expression: expression, windowStart: start, now: now)
    }

    /// Decides as `hit` would, without counting (a read: no write, no commit).
    func peek(_ subjects: [RateLimitSubject], cost: Int = 1, limit: Int) async throws -> Decision {
        let now = clock.now()
        let start = Int64(now) / Self.window * Self.window
        let rows =
            subjects.isEmpty
            ? []
            : try await database.sql.raw(
                """
                SELECT hits FROM rate_counters WHERE window_start = \(bind: start) AND subject IN (\(binds: subjects.map(\.stored)))
                """
            ).all()
        let highest = (try rows.map { try $0.decode(column: "hits", as: Int64.self) }.max() ?? 0) + Int64(cost)
        return Self.decision(highest: highest, limit: limit, windowStart: start, now: now)
    }

    static func decision(highest: Int64, limit: Int, windowStart: Int64, now: Double) -> Decision {
        let reset = max(1, Int((Double(windowStart + window) - now).rounded(.up)))
        return Decision(
            limit: limit, remaining: max(0, limit - Int(highest)), resetSeconds: reset, allowed: highest <= Int64(limit))
    }

    /// Drops windows older than an hour.
    func purge() async throws {
        let cutoff = Int64(clock.now()) - 3600
        try await database.sql.raw("DELETE FROM rate_counters WHERE window_start < \(bind: cutoff)").run()
    }
}

extension RateLimiter.Decision {
    /// The 429 for a refused hit, naming what was limited.
    func refusal(_ what: String) -> APIError {
        var error = APIError(
            status: .tooManyRequests, code: "rate_limited",
            message: "Too many \(what): the limit is \(limit) per minute. Try again in \(resetSeconds) s.")
        error.headers.replaceOrAdd(name: .retryAfter, value: String(resetSeconds))
        return error
    }
}
