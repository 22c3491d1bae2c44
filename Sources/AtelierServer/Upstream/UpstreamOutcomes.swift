import AtelierCore
import Foundation

/// What a job does when the upstream answers with a state of the upstream rather than a failure of the job:
/// a rate limit (wait, without spending an attempt), used-up quota (fail now, stop the key), a refused key
/// (stop the key; another key may run the job).
struct UpstreamOutcomes: Sendable {
    let context: WorkerContext
    let workerID: String

    private var runner: JobRunner { JobRunner(context: context, workerID: workerID) }

    /// True when `error` was dealt with here; false for ordinary failures (`JobRunner.settle`).
    func handled(_ job: JobRecord, error: ProviderError) async throws -> Bool {
        guard let gate = context.gate, let key = context.upstreamKey else { return false }
        switch error {
        case .rateLimited(_, let retryAfter):
            let seconds = max(retryAfter ?? gate.upstream.defaultPauseSeconds, 0.05)
            try await gate.pause(key: key, model: job.model, seconds: seconds, reason: "rate_limit")
            context.metrics.upstreamRateLimited(key: key)
            context.logger.info(
                "upstream rate limit; pausing the key for this model",
                metadata: [
                    "upstream_key": "\(key)", "model": "\(job.model)", "seconds": "\(seconds)",
                ])
            try await waitForRoom(job, seconds: seconds, reason: "rate_limit", takeSeq: true)
            return true
        case .insufficientQuota:
            try await gate.setStatus(.quotaExhausted, key: key, message: error.message)
            context.metrics.upstreamKeyStopped(key: key, reason: "quota_exhausted")
            context.logger.error("upstream key out of quota; stopped until an admin resumes it", metadata: ["upstream_key": "\(key)"])
            try await context.publisher.publish(JobEventType.quotaExhausted.rawValue, jobID: try job.requireID())
            try await runner.fail(
                job, code: error.code,
                message: error.message
                    + " Atelier stopped using upstream key '\(key)' until an administrator resumes it (Admin → Upstream keys).",
                retryable: false)
            return true
        case .unauthenticated, .permissionDenied:
            try await gate.setStatus(.refused, key: key, message: error.message)
            context.metrics.upstreamKeyStopped(key: key, reason: "refused")
            context.logger.error(
                "upstream key refused; disabled until an admin resumes it",
                metadata: [
                    "upstream_key": "\(key)", "code": "\(error.code)",
                ])
            if try await gate.activeKeys().isEmpty {
                try await runner.fail(
                    job, code: error.code,
                    message: error.message + " Atelier stopped using upstream key '\(key)' until an administrator resumes it.",
                    retryable: false)
            } else {
                // Another key may run it: back to the queue without spending an attempt.
                try await runner.requeue(job, .abandon(announce: true))
            }
            return true
        default:
            return false
        }
    }

    /// Back to the queue until about `seconds` from now, without spending an attempt, with a `job.waiting` event;
    /// a job that has waited longer than `JOB_RATE_LIMIT_WAIT` fails instead.
    func waitForRoom(_ job: JobRecord, seconds: Double, reason: String, takeSeq: Bool) async throws {
        guard let gate = context.gate else { return }
        let now = context.clock.now()
        let limit = gate.upstream.maxWaitSeconds
        if now - (job.rateLimitedSince ?? now) >= limit {
            try await runner.fail(
                job, code: "rate_limit_wait_exceeded",
                message:
                    "This job waited \(Self.duration(now - (job.rateLimitedSince ?? now))) for OpenAI's rate limit, longer than JOB_RATE_LIMIT_WAIT (\(Self.duration(limit))); submit it again later or raise the upstream limits.",
                retryable: false, refundAttempt: true)
            return
        }
        let message = "Waiting for OpenAI's rate limit, about \(Int(seconds.rounded(.up))) s."
        let wait = JobLifecycle.Requeue.waitForRoom(until: now + seconds, message: message, takeSeq: takeSeq)
        guard try await runner.requeue(job, wait) else { return }
        context.metrics.rateLimitWait(reason: reason)
    }

    static func duration(_ seconds: Double) -> String {
        seconds >= 90 ? "\(Int((seconds / 60).rounded())) min" : "\(Int(seconds.rounded())) s"
    }
}
