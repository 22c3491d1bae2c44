import AtelierCore
import Fluent
import Foundation
import SQLKit

/// Runs one claimed job to its end: calls the handler, commits the outcome once, or schedules a retry.
struct JobRunner: Sendable {
    let context: WorkerContext
    let workerID: String

    enum Ending { case finished, abandoned }

    /// `job` is the row as `JobQueue.claim` returned it (running, leased, `seq` taken for `job.running`).
    /// It first takes room on an upstream key (`UpstreamGate`); with none left it goes back to the queue unchanged.
    /// `gate`: the gate as the claim read it (`JobQueue.Claimed`), else it is read here.
    func run(_ job: JobRecord, gate snapshot: UpstreamGate? = nil, isShuttingDown: @Sendable () -> Bool) async -> Ending {
        guard let configured = context.gate, let jobID = job.id else { return await execute(job, isShuttingDown: isShuttingDown) }
        var keyed = context
        do {
            let gate = if let snapshot { snapshot } else { try await configured.snapshot() }
            keyed.gate = gate
            keyed.gate?.knownActiveKeys = nil  // what the attempt learns (a stopped key) is read afresh
            switch try await gate.admit(model: job.model, images: job.params.n) {
            case .key(let label): keyed.upstreamKey = label
            case .wait(let seconds):
                try await UpstreamOutcomes(context: context, workerID: workerID)
                    .waitForRoom(job, seconds: seconds, reason: "pacing", takeSeq: false)
                return .finished
            }
        } catch {
            context.logger.error(
                "upstream admission failed; the job's lease will expire and it will run again",
                metadata: ["job": "\(jobID)", "error": "\(error)"])
            return .finished
        }
        return await JobRunner(context: keyed, workerID: workerID).execute(job, isShuttingDown: isShuttingDown)
    }

    /// A job its admission transaction claimed and admitted upstream (the fast path, `JobStartNow`): `job.running`
    /// is already stored, so the attempt goes straight to the handler with `upstreamKey`.
    func runAdmitted(
        _ job: JobRecord, upstreamKey: String?, gate: UpstreamGate?, isShuttingDown: @Sendable () -> Bool
    ) async -> Ending {
        var keyed = context
        keyed.gate = gate
        keyed.upstreamKey = upstreamKey
        return await JobRunner(context: keyed, workerID: workerID).execute(job, announced: true, isShuttingDown: isShuttingDown)
    }

    /// `announced`: `job.running` is stored already (the fast path).
    private func execute(_ job: JobRecord, announced: Bool = false, isShuttingDown: @Sendable () -> Bool) async -> Ending {
        let log = context.logger
        guard let jobID = job.id else { return .finished }
        let meter = AttemptMeter()
        // A compatible-route caller of this instance may be sent this attempt's answer as it arrives (the fast path).
        let tap = context.responseTaps?.tap(for: jobID)
        do {
            // Queued before its model's shutdown date, claimed after it: refused here, never sent upstream.
            if let shutDown = context.registry.retirement(of: job.model) {
                try await fail(job, code: shutDown.code, message: shutDown.message, retryable: false)
                return .finished
            }
            context.metrics.queueWait(seconds: context.clock.now() - max(job.runAfter, job.createdAt))
            if !announced {
                try await context.publisher.publish(JobEventType.running.rawValue, job: job, images: try job.imagesBeforeOutput)
            }
            do {
                FastPathTrace.mark("handler", job: jobID, logger: log)
                let started = ContinuousClock.now
                let outcome: JobOutcome
                do {
                    outcome = try await handle(job, context: context.measured(by: meter, tap: tap?.tap))
                } catch let error where tap?.forwarded == true && !(error is ProviderError) && !(error is CancellationError) {
                    // The caller has its image; storing it failed. Never lost silently, never run upstream again.
                    try await complete(
                        job, with: unstoredOutcome(meter), unstored: JobFailure(code: "storage_failed", message: "\(error)"),
                        isShuttingDown: isShuttingDown)
                    return .finished
                }
                context.metrics.attempt(kind: job.kind, duration: ContinuousClock.now - started)
                try await complete(job, with: outcome, isShuttingDown: isShuttingDown)
                return .finished
            } catch let error as ProviderError {
                if try await UpstreamOutcomes(context: context, workerID: workerID).handled(job, error: error) { return .finished }
                return try await settle(job, error: error, meter: meter, isShuttingDown: isShuttingDown)
            } catch is CancellationError {
                return try await settle(job, error: .canceled, meter: meter, isShuttingDown: isShuttingDown)
            } catch let failure as JobFailure {
                try await fail(job, code: failure.code, message: failure.message, retryable: false, charge: meter.charge(canceled: false))
            } catch {
                try await fail(
                    job, code: "internal_error", message: String(reflecting: error), retryable: false,
                    charge: meter.charge(canceled: false))
            }
        } catch {
            log.error(
                "job bookkeeping failed; its lease will expire and it will run again",
                metadata: ["job": "\(jobID)", "error": "\(error)"])
        }
        return .finished
    }

    private func handle(_ job: JobRecord, context: WorkerContext) async throws -> JobOutcome {
        let onPartial = PartialImageRecorder(context: context, job: job)
        switch try JobKind(row: job) {
        case .generate: return try await GenerateHandler(context: context).run(job, onPartial: onPartial.record)
        case .edit: return try await EditHandler(context: context).run(job, onPartial: onPartial.record)
        case .autoMask: return try await AutoMaskHandler(context: context).run(job)
        }
    }

    /// Commits images, usage, cost and the final status in one transaction (`JobLifecycle.succeed`), only while this
    /// worker holds the lease, so a re-run after a lost lease can never add a second set of images or a second charge.
    /// A commit that fails in a way that passes is tried again until it lands (`SuccessCommit`), never failed.
    /// `unstored`: the answer reached a compatible-route caller but could not be stored; the job still succeeds
    /// (`result.stored = false`, the error on the job, a `job.storage_failed` event before `job.succeeded`).
    private func complete(
        _ job: JobRecord, with outcome: JobOutcome, unstored: JobFailure? = nil, isShuttingDown: @Sendable () -> Bool
    ) async throws {
        let jobID = try job.requireID()
        let cost = outcome.usage.flatMap { context.costs.cost(of: $0, model: job.model) }.map(CostCalculator.nanoDollars)
        let lifecycle = context.lifecycle
        var success = JobLifecycle.Success(outcome: outcome, costNano: cost, upstreamKey: context.upstreamKey)
        success.unstored = unstored
        let succeeded: JobLifecycle.Published
        switch await SuccessCommit(context: context, workerID: workerID)
            .commit(job, kind: try JobKind(row: job), with: success, isShuttingDown: isShuttingDown)
        {
        case .committed(let published): succeeded = published
        case .lost:
            context.logger.warning("lease lost before commit; discarding this attempt's images", metadata: ["job": "\(jobID)"])
            for image in outcome.images { await context.images.deleteBlobs(of: image) }
            return
        case .refused(let error):
            // Nothing landed and trying again would not help: the job fails (charged), its images go with it.
            for image in outcome.images { await context.images.deleteBlobs(of: image) }
            throw error
        case .notCommitted(let error):
            // Whether it landed is unknown, so the images stay; the job, still running, runs again after its lease.
            context.logger.critical(
                "a succeeded job's commit did not land before shutdown or could not be checked: it will run again",
                metadata: [
                    "job": "\(jobID)", "cost_nano": "\(cost.map(String.init) ?? "unknown")",
                    "blobs": "\(outcome.images.map(\.blobKey))", "error": "\(String(reflecting: error))",
                ])
            return
        }
        context.metrics.workerFinished(status: JobStatus.succeeded.rawValue)
        let outputs = try outcome.images.filter { try $0.imageRole == .output }.count
        context.metrics.spend(model: job.model, nanoDollars: cost ?? 0, images: outputs)
        if let key = context.upstreamKey { context.metrics.upstreamSpend(key: key, nanoDollars: cost ?? 0, images: outputs) }
        if let unstored {
            context.logger.error("an answered image could not be stored", metadata: ["job": "\(jobID)", "error": "\(unstored.message)"])
        }
        await lifecycle.deliver(succeeded)
        // Output thumbnails are made when first asked for (`GET /v1/images/{id}/thumbnail`): made here they took
        // CPU from the next jobs on a small machine (added latency 28–31 → 16–18 ms at 1 concurrent request), and
        // API callers mostly never look at them.
    }

    /// What the attempt's usage says, without images: the job is charged exactly as if they had been stored.
    private func unstoredOutcome(_ meter: AttemptMeter) -> JobOutcome {
        var result = JobResultInfo(size: nil, quality: nil, background: nil, outputFormat: nil)
        result.stored = false
        return JobOutcome(images: [], usage: meter.usage, requestID: nil, result: result)
    }
}
