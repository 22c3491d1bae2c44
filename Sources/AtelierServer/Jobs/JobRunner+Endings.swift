import AtelierCore
import Fluent
import Foundation
import SQLKit

/// How an attempt that did not succeed ends: canceled, abandoned at shutdown, retried or failed, each charged
/// for what the attempt cost upstream (`AttemptMeter`).
extension JobRunner {
    func settle(
        _ job: JobRecord, error: ProviderError, meter: AttemptMeter, isShuttingDown: @Sendable () -> Bool
    ) async throws -> Ending {
        let jobID = try job.requireID()
        let fresh = try await JobRecord.find(jobID, on: context.database)
        if error == .canceled || Task.isCancelled {
            if fresh?.cancelRequested == true {
                try await finish(
                    jobID, model: job.model, status: .canceled, code: "canceled", message: "Canceled by the user.",
                    retryable: false, charge: meter.charge(canceled: true))
                return .finished
            }
            if isShuttingDown() {
                if try await chargeBeforeRunningAgain(job, charge: meter.charge(canceled: true)) {
                    try await context.queue.abandon(jobID, workerID: workerID)
                }
                return .abandoned
            }
        }
        let attempts = fresh?.attempts ?? job.attempts
        if error.isRetryable && attempts < job.maxAttempts {
            guard try await chargeBeforeRunningAgain(job, charge: meter.charge(canceled: false)) else { return .finished }
            let delay = context.queue.backoff(attempt: attempts, error: error)
            context.logger.info("retrying job", metadata: [
                "job": "\(jobID)", "attempt": "\(attempts)", "delay_s": "\(delay)", "reason": "\(error.code)",
            ])
            if try await context.queue.release(jobID, workerID: workerID, delay: delay, error: error) {
                context.metrics.jobRetried(reason: error.code)
                try await context.publisher.publish("job.queued", jobID: jobID)
            }
            return .finished
        }
        try await fail(job, code: error.code, message: error.message, retryable: error.isRetryable, charge: meter.charge(canceled: false))
        return .finished
    }

    /// An attempt that cost money is charged before the job runs again, and the next attempt reserves the estimate
    /// again. When that would pass a cap the job fails here (charged for this attempt) and false is returned.
    func chargeBeforeRunningAgain(_ job: JobRecord, charge: AttemptCharge) async throws -> Bool {
        guard charge != .none else { return true }
        let jobID = try job.requireID()
        do {
            try await context.database.transaction { db in
                try await SpendLedger(database: db).chargeAttemptAndReserveNext(
                    jobID: jobID, cost: cost(of: charge, model: job.model), now: context.clock.now())
            }
            context.metrics.spend(model: job.model, nanoDollars: cost(of: charge, model: job.model) ?? job.estimatedCostNano ?? 0, images: 0)
            return true
        } catch let error as APIError where error.code == "spend_cap_reached" {
            let message = "The upstream failed after it had started (this attempt was charged), "
                + "and another attempt would pass a spending cap: \(error.message)"
            try await fail(job, code: "spend_cap_reached", message: message, retryable: false, charge: charge)
            return false
        }
    }

    /// Records the failure; messages that may carry internal details are logged and replaced by a reference.
    /// `refundAttempt`: the attempt was no real failure (the job waited too long for the rate limit).
    func fail(
        _ job: JobRecord, code: String, message: String, retryable: Bool, charge: AttemptCharge = .none,
        refundAttempt: Bool = false
    ) async throws {
        let jobID = try job.requireID()
        let shown = CorrelatedError.publicMessage(code: code, detail: message, logger: context.logger, metadata: ["job": "\(jobID)"])
        try await finish(
            jobID, model: job.model, status: .failed, code: code, message: shown, retryable: retryable, charge: charge,
            refundAttempt: refundAttempt)
    }

    /// The exact cost of an attempt that reported usage; nil means "the reservation".
    func cost(of charge: AttemptCharge, model: String) -> Int64? {
        guard case .usage(let usage) = charge else { return nil }
        return context.costs.cost(of: usage, model: model).map(CostCalculator.nanoDollars)
    }

    private func finish(
        _ jobID: UUID, model: String, status: JobStatus, code: String, message: String, retryable: Bool, charge: AttemptCharge,
        refundAttempt: Bool = false
    ) async throws {
        let ended = try await context.database.transaction { db -> JobEventPublisher.RecordedEvent? in
            let rows = try await (db as! any SQLDatabase).raw("""
            UPDATE jobs SET status = \(bind: status.rawValue), lease_owner = NULL, lease_expires = NULL,
                attempts = attempts - \(bind: refundAttempt ? 1 : 0),
                finished_at = \(bind: context.clock.now()), error_code = \(bind: code),
                error_message = \(bind: message), error_retryable = \(bind: retryable),
                upstream_key = COALESCE(CAST(\(bind: context.upstreamKey) AS TEXT), upstream_key)
            WHERE id = \(bind: jobID) AND lease_owner = \(bind: workerID) AND status = 'running'
            RETURNING id
            """).all()
            guard rows.count == 1 else { return nil }
            let ledger = SpendLedger(database: db)
            if charge == .none {
                try await ledger.release(jobID: jobID, now: context.clock.now())
            } else {
                let overruns = try await ledger.settle(jobID: jobID, cost: cost(of: charge, model: model), now: context.clock.now())
                overruns.forEach(context.metrics.spendOverrun)
            }
            return try await context.publisher.record("job.\(status.rawValue)", jobID: jobID, on: db)
        }
        if let ended { await context.publisher.deliver(ended) }
    }
}
