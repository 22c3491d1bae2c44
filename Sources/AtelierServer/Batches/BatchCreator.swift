import AtelierCore
import Fluent
import Foundation
import SQLKit
import Vapor

/// Writes a validated batch: the batch row, its jobs (in chunks of multi-row inserts) and their reservations,
/// all in one transaction, with the estimated total held against the caps once, last. Nothing is kept in
/// memory beyond one chunk: the jobs are made again from the plan as they are written.
struct BatchCreator: Sendable {
    let app: Application

    /// Jobs per INSERT: about 40 columns each stays under SQLite's and PostgreSQL's bind limits.
    static let chunk = 250
    /// `run_after` of an `openai_batch` batch's jobs: never due for the live queue (the OpenAI batch runs them).
    static let heldRunAfter: Double = 1e15

    func create(_ plan: BatchPlan, check: BatchCheck, owner: String, budget: SpendBudget) async throws -> BatchRecord {
        let services = app.atelier
        let now = services.clock.now()
        let batch = BatchRecord(
            owner: owner, name: plan.name, mode: plan.mode, prompt: plan.prompt, options: plan.options, total: check.jobs,
            estimatedCostNano: check.estimatedCostNano, now: now)
        if plan.mode == .openaiBatch {
            batch.status = BatchStatus.queued.rawValue
            batch.pollAfter = now  // due for the OpenAI batch runner at once
        }
        let batchID = try batch.requireID()
        let maxAttempts = services.config.worker.maxAttempts
        let runAfter = plan.mode == .live ? now : Self.heldRunAfter
        do {
            try await app.db.transaction { db in
                try await batch.create(on: db)
                let ledger = SpendLedger(database: db)
                var pending: [JobRecord] = []
                func flush() async throws {
                    try await JobLifecycle.enqueueBatchJobs(pending, on: db)
                    try await ledger.recordBatchReservations(
                        pending.map { ($0.id!, $0.estimatedCostNano ?? 0) }, owner: owner, budget: budget, now: now)
                    pending.removeAll(keepingCapacity: true)
                }
                try await plan.forEachJob { result in
                    // The registry changed since the check: refuse as the check would have.
                    guard case .success(let planned) = result else {
                        if case .failure(let problem) = result { throw BatchRefusal(errors: [problem], errorCount: 1) }
                        return
                    }
                    let job = JobRecord(
                        owner: owner, kind: .generate, params: planned.params, maxAttempts: maxAttempts, now: now)
                    // Distinct times keep the rows in order in the queue and in History.
                    job.createdAt = now + Double(planned.index) * 1e-6
                    job.runAfter = runAfter
                    job.estimatedCostNano = planned.estimatedCostNano
                    job.batchID = batchID
                    job.batchIndex = planned.index
                    job.batchRow = planned.row
                    job.batchVars = planned.variables
                    pending.append(job)
                    if pending.count == Self.chunk { try await flush() }
                }
                if !pending.isEmpty { try await flush() }
                try await ledger.holdBatch(total: check.estimatedCostNano, owner: owner, budget: budget, now: now)
            }
        } catch var refusal as APIError where refusal.code == "spend_cap_reached" {
            refusal.message = refusal.message.replacingOccurrences(of: "This job", with: "This batch of \(check.jobs) jobs")
            throw refusal
        }
        services.metrics.batchCreated(mode: plan.mode.rawValue, jobs: check.jobs)
        if plan.mode == .live {
            await services.hub.wakeWorkers()
            try? await services.relay?.announceWork()
        }
        return batch
    }
}
