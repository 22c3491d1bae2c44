import Fluent
import Foundation
import SQLKit

/// How decided hits reach `rate_counters`: a transaction takes the pending ones (`take`), writes them with its own
/// work (`store`) and reports how it ended (`settle`); `persisted` waits for one hit and stores it itself when no
/// transaction has taken it.
extension RequestHitCounts {
    /// Takes every hit not stored yet, for the caller's transaction to `store` and then `settle`.
    func take() -> [Pending] {
        state.withLock { $0.takePending() }
    }

    /// Adds `batch`'s hits to `rate_counters` in one upsert (a row per subject and window); nothing when empty.
    static func store(_ batch: [Pending], on database: any Database) async throws {
        var added: [String: [Int64: Int64]] = [:]
        var order: [(subject: String, windowStart: Int64)] = []
        for hit in batch {
            for subject in hit.subjects {
                if added[subject]?[hit.windowStart] == nil { order.append((subject, hit.windowStart)) }
                added[subject, default: [:]][hit.windowStart, default: 0] += hit.cost
            }
        }
        guard !order.isEmpty else { return }
        let values = order.map { row -> SQLQueryString in
            "(\(bind: row.subject), \(bind: row.windowStart), \(bind: added[row.subject]![row.windowStart]!))"
        }
        try await database.sql.raw(
            """
            INSERT INTO rate_counters (subject, window_start, hits) VALUES \(SQLList(values, separator: SQLRaw(", ")))
            ON CONFLICT (subject, window_start) DO UPDATE SET hits = rate_counters.hits + excluded.hits
            """
        ).run()
    }

    /// After the transaction that wrote `batch` ended: committed, the requests waiting for these hits are answered;
    /// rolled back, the hits wait for the next write again (their counts in memory stand), stored by a statement of
    /// their own at once when a request already waits for one of them.
    func settle(_ batch: [Pending], stored: Bool, on database: any Database) {
        guard !batch.isEmpty else { return }
        let (answered, flush) = state.withLock { state -> ([CheckedContinuation<Void, any Error>], Bool) in
            for hit in batch { state.storing.remove(hit.ticket) }
            if stored { return (batch.compactMap { state.waiters.removeValue(forKey: $0.ticket) }, false) }
            state.pending.insert(contentsOf: batch, at: 0)
            guard !state.flushing, batch.contains(where: { state.waiters[$0.ticket] != nil }) else { return ([], false) }
            state.flushing = true
            return ([], true)
        }
        for waiter in answered { waiter.resume() }
        if flush { startFlush(on: database) }
    }

    /// Whether hit `ticket` is stored (no transaction has it pending or in flight).
    func isStored(_ ticket: UInt64) -> Bool {
        state.withLock { state in !state.storing.contains(ticket) && !state.pending.contains { $0.ticket == ticket } }
    }

    /// Returns once hit `ticket` is stored: at once when it already is, else when the transaction that took it
    /// commits; when none has taken it, stores the pending hits in a statement of their own. A failed statement
    /// throws (the request answers its error, as a failed count did before) and leaves the hits pending.
    func persisted(_ ticket: UInt64, on database: any Database) async throws {
        guard !isStored(ticket) else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let flush = state.withLock { state -> Bool? in
                let pending = state.pending.contains { $0.ticket == ticket }
                guard pending || state.storing.contains(ticket) else { return nil }
                state.waiters[ticket] = continuation
                guard pending, !state.flushing else { return false }
                state.flushing = true
                return true
            }
            switch flush {
            case nil: continuation.resume()
            case true?: startFlush(on: database)
            case false?: break
            }
        }
    }

    private func startFlush(on database: any Database) {
        Task(executorPreference: database.writeExecutor) { await self.flush(on: database) }  // SQLite's writer
    }

    /// Stores pending hits, one statement at a time (each taking its turn among the process's writers), until none
    /// is left; a failed statement fails the requests waiting for its hits and ends the flush.
    private func flush(on database: any Database) async {
        while true {
            let batch = state.withLock { state -> [Pending]? in
                guard !state.pending.isEmpty else {
                    state.flushing = false
                    return nil
                }
                return state.takePending()
            }
            guard let batch else { return }
            do {
                try await Self.store(batch, on: database)
                state.withLock { $0.ownStatements += 1 }
                settle(batch, stored: true, on: database)
            } catch {
                let failed = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
                    for hit in batch { state.storing.remove(hit.ticket) }
                    state.pending.insert(contentsOf: batch, at: 0)
                    state.flushing = false
                    return batch.compactMap { state.waiters.removeValue(forKey: $0.ticket) }
                }
                for waiter in failed { waiter.resume(throwing: error) }
                return
            }
        }
    }
}

extension RequestHitCounts.State {
    /// Moves the pending hits to `storing` and returns them.
    mutating func takePending() -> [RequestHitCounts.Pending] {
        let batch = pending
        pending = []
        for hit in batch { storing.insert(hit.ticket) }
        return batch
    }
}
