import AtelierCore
import Fluent
import SQLKit
import Vapor

/// Ends or restarts a batch's jobs in bulk, a chunk per transaction: each job's status, its reservation and its
/// event commit together, as for a single job.
struct BatchCanceler: Sendable {
    let app: Application

    static let chunk = 200

    /// Queued jobs end canceled (their reservations released); running ones are asked to stop. The batch is
    /// `canceled`.
    func cancel(_ batch: BatchRecord) async throws {
        let batchID = try batch.requireID()
        let now = app.atelier.clock.now()
        let publisher = app.publisher()
        while true {
            let events = try await app.db.transaction { db -> [JobEventPublisher.RecordedEvent] in
                let ids = try await (db as! any SQLDatabase).raw("""
                    UPDATE jobs SET status = 'canceled', cancel_requested = \(bind: true), finished_at = \(bind: now),
                        error_code = 'canceled', error_message = 'Canceled with its batch.', error_retryable = \(bind: false)
                    WHERE id IN (SELECT id FROM jobs WHERE batch_id = \(bind: batchID) AND status = 'queued' LIMIT \(unsafeRaw: String(Self.chunk)))
                        AND status = 'queued'
                    RETURNING id
                    """).all().map { try $0.decode(column: "id", as: UUID.self) }
                var events: [JobEventPublisher.RecordedEvent] = []
                for id in ids {
                    try await SpendLedger(database: db).release(jobID: id, now: now)
                    if let event = try await publisher.record("job.canceled", jobID: id, on: db) { events.append(event) }
                }
                return events
            }
            for event in events { await publisher.deliver(event) }
            if events.isEmpty { break }
        }
        let running = try await (app.db as! any SQLDatabase).raw("""
            UPDATE jobs SET cancel_requested = \(bind: true) WHERE batch_id = \(bind: batchID) AND status = 'running' RETURNING id
            """).all().map { try $0.decode(column: "id", as: UUID.self) }
        for id in running { app.jobWorker?.cancel(id) }
        batch.status = BatchStatus.canceled.rawValue
        batch.updatedAt = now
        try await batch.update(on: app.db)
    }

    /// Queues the failed jobs again with fresh attempts, each reserved against `budget`; returns how many.
    func retryFailed(_ batch: BatchRecord, budget: SpendBudget) async throws -> Int {
        let batchID = try batch.requireID()
        let clock = app.atelier.clock
        var retried = 0
        while true {
            let count = try await app.db.transaction { db -> Int in
                let rows = try await (db as! any SQLDatabase).raw("""
                    UPDATE jobs SET status = 'queued', attempts = 0, cancel_requested = \(bind: false), run_after = \(bind: clock.now()),
                        finished_at = NULL, error_code = NULL, error_message = NULL, error_retryable = NULL
                    WHERE id IN (SELECT id FROM jobs WHERE batch_id = \(bind: batchID) AND status = 'failed' LIMIT \(unsafeRaw: String(Self.chunk)))
                        AND status = 'failed'
                    RETURNING id, estimated_cost_nano
                    """).all()
                for row in rows {
                    try await SpendLedger(database: db).reserve(
                        jobID: try row.decode(column: "id", as: UUID.self), owner: batch.owner,
                        amount: try row.decode(column: "estimated_cost_nano", as: Int64?.self), budget: budget, now: clock.now())
                }
                return rows.count
            }
            if count == 0 { break }
            retried += count
        }
        if retried > 0 {
            batch.status = BatchStatus.running.rawValue
            batch.updatedAt = clock.now()
            try await batch.update(on: app.db)
            await app.atelier.hub.wakeWorkers()
            try? await app.atelier.relay?.announceWork()
        }
        return retried
    }
}
