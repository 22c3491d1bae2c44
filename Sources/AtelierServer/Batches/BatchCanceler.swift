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
        let lifecycle = JobLifecycle(database: app.db, publisher: app.publisher())
        while true {
            let published = try await lifecycle.cancelQueued(limit: Self.chunk, message: "Canceled with its batch.", batchID: batchID)
            await lifecycle.deliver(published)
            if published.events.isEmpty { break }
        }
        let running = try await lifecycle.requestCancelRunning(batchID: batchID)
        for id in running { app.jobWorker?.cancel(id) }
        batch.status = BatchStatus.canceled.rawValue
        batch.updatedAt = now
        try await batch.update(on: app.db)
        if try batch.batchMode == .openaiBatch { await cancelUpstream(batch, batchID: batchID) }
    }

    /// An `openai_batch` batch: the OpenAI batch is canceled now if it exists (else its runner does it), and the
    /// runner looks at it next, ending the jobs no line answered.
    private func cancelUpstream(_ batch: BatchRecord, batchID: UUID) async {
        let now = app.atelier.clock.now()
        if let upstreamID = batch.upstreamBatchID, let runner = OpenAIBatchRunner(app: app) {
            do { try await runner.cancelUpstream(upstreamID, batchID: batchID) } catch {
                app.logger.warning(
                    "openai batch cancel failed; the runner tries again", metadata: ["batch": "\(batchID)", "error": "\(error)"])
            }
        }
        try? await OpenAIBatchState(database: app.db).pollSoon(batchID, now: now)
    }

    /// Queues the failed jobs again with fresh attempts, each reserved against `budget`; returns how many.
    func retryFailed(_ batch: BatchRecord, budget: SpendBudget) async throws -> Int {
        let batchID = try batch.requireID()
        let clock = app.atelier.clock
        var retried = 0
        let lifecycle = JobLifecycle(database: app.db, publisher: app.publisher())
        while true {
            let published = try await lifecycle.retryFailed(batchID: batchID, owner: batch.owner, limit: Self.chunk, budget: budget)
            await lifecycle.deliver(published)
            if published.events.isEmpty { break }
            retried += published.events.count
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
