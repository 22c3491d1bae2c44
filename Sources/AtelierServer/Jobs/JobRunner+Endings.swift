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
                try await requeue(job, .abandon(announce: false), charge: meter.charge(canceled: true))
                return .abandoned
            }
        }
        let attempts = fresh?.attempts ?? job.attempts
        if error.isRetryable && attempts < job.maxAttempts {
            let delay = context.queue.backoff(attempt: attempts, error: error)
            context.logger.info(
                "retrying job",
                metadata: [
                    "job": "\(jobID)", "attempt": "\(attempts)", "delay_s": "\(delay)", "reason": "\(error.code)",
                ])
            if try await requeue(job, .retryLater(delay: delay, error: error), charge: meter.charge(canceled: false)) {
                context.metrics.jobRetried(reason: error.code)
            }
            return .finished
        }
        try await fail(job, code: error.code, message: error.message, retryable: error.isRetryable, charge: meter.charge(canceled: false))
        return .finished
    }

    /// Back to the queue (`JobLifecycle.requeue`). An attempt that cost money is charged in the same transaction
    /// and the next attempt reserves the estimate again; when that would pass a cap the job fails instead (charged
    /// for this attempt) and false is returned. False too when the lease was lost.
    @discardableResult
    func requeue(_ job: JobRecord, _ how: JobLifecycle.Requeue, charge: AttemptCharge = .none) async throws -> Bool {
        let jobID = try job.requireID()
        let amount: Int64?? = charge == .none ? nil : .some(cost(of: charge, model: job.model))
        do {
            guard let requeued = try await context.lifecycle.requeue(jobID, workerID: workerID, how, charge: amount)
            else { return false }
            context.metrics.workerRequeued(reason: how.metricReason)
            if charge != .none {
                context.metrics.spend(
                    model: job.model, nanoDollars: cost(of: charge, model: job.model) ?? job.estimatedCostNano ?? 0, images: 0)
            }
            await context.lifecycle.deliver(requeued)
            return true
        } catch let error as APIError where error.code == "spend_cap_reached" {
            let message =
                "The upstream failed after it had started (this attempt was charged), "
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
        let ending = JobLifecycle.Ending(
            status: status, code: code, message: message, retryable: retryable, costNano: cost(of: charge, model: model),
            release: charge == .none, refundAttempt: refundAttempt, upstreamKey: context.upstreamKey)
        if let ended = try await context.lifecycle.end(jobID, workerID: workerID, ending) {
            context.metrics.workerFinished(status: status.rawValue)
            await context.lifecycle.deliver(ended)
        }
    }
}
