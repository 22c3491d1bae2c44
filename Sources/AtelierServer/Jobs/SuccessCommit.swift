import AtelierCore
import Fluent
import Foundation

/// A paid-for job's success commit (`JobLifecycle.succeed`, on every path: SQLite's writer or group commit,
/// PostgreSQL's one statement or its transaction), tried again while the database fails in a way that passes
/// (`TransientDatabaseError.isRetryableCommitFailure`). The upstream has answered and been paid, and its images are
/// stored as blobs: failing the job would lose them, and leaving it to the lease expiry would pay the upstream again.
/// So there is no time bound while the process runs: it tries again with a back-off of up to `maxDelay`, logs each
/// failure and counts it (`atelier_commit_retries_total`), while the job stays registered with its worker, whose
/// heartbeat keeps renewing its lease whenever the database takes a write (so no other worker takes it and pays
/// the upstream again). It stops only at shutdown, once the worker's grace has run out (`Outcome.notCommitted`).
///
/// A try that failed may have landed (PostgreSQL's connection dropped after `COMMIT`): the next try then finds the
/// row no longer running and leased to this worker, which must not be read as a lost lease (that deletes the images
/// of a succeeded job). `landedEarlier` tells the two apart and the stored events are delivered instead: nothing is
/// written twice, and the job is charged once.
struct SuccessCommit: Sendable {
    let context: WorkerContext
    let workerID: String
    var firstDelay: Duration = .milliseconds(50)
    var maxDelay: Duration = .seconds(2)

    enum Outcome {
        case committed(JobLifecycle.Published)
        /// The lease was lost before anything was written: the attempt's images are this worker's to delete.
        case lost
        /// A failure not worth trying again (a constraint, a bug), and nothing landed: the images are this worker's
        /// to delete, and the job fails.
        case refused(any Error)
        /// Whether it landed is unknown (shutdown came first, or the check failed): the images stay, and the job, still
        /// running, runs again once its lease expires.
        case notCommitted(any Error)
    }

    func commit(
        _ job: JobRecord, kind: JobKind, with success: JobLifecycle.Success, isShuttingDown: @Sendable () -> Bool
    ) async -> Outcome {
        guard let jobID = job.id else { return .refused(FluentError.idRequired) }
        let held = PostgresCompletion.RowBefore(job)
        var failures = 0
        var delay = firstDelay
        while true {
            do {
                let published = try await context.lifecycle.succeed(jobID, kind: kind, workerID: workerID, with: success, held: job)
                try await context.afterSuccessCommit?()
                if let published { return .committed(published) }
                if failures == 0 { return .lost }
                return try await landedEarlier(jobID, attempt: held, success: success).map(Outcome.committed) ?? .lost
            } catch {
                held.restore(job)  // a rolled-back transaction left its writes on the model
                guard TransientDatabaseError.isRetryableCommitFailure(error) else {
                    // An earlier try, or this one (its answer unreadable after the commit), may have landed.
                    do {
                        return try await landedEarlier(jobID, attempt: held, success: success).map(Outcome.committed) ?? .refused(error)
                    } catch { return .notCommitted(error) }
                }
                failures += 1
                context.metrics.commitRetried(reason: TransientDatabaseError.metricReason(of: error))
                if isShuttingDown() && Task.isCancelled { return .notCommitted(error) }
                context.logger.error(
                    "a succeeded job's commit failed; trying again (its images and cost are kept until it lands)",
                    metadata: [
                        "job": "\(jobID)", "failures": "\(failures)", "retry_in_ms": "\(delay.milliseconds)",
                        "error": "\(String(reflecting: error))",
                    ])
                // Not cut short by the task's cancellation (the heartbeat's, for a cancel request or for the lease seen
                // gone after a landed commit): only the next try can tell what the row is.
                await Task { [delay] in try? await Task.sleep(for: delay) }.value
                delay = min(delay * 2, maxDelay)
            }
        }
    }

    /// The success an earlier try committed though its answer was lost: the row is `succeeded` by this attempt (the
    /// claim's `attempts`, and this attempt's first image row, whose id was made here), with its stored events.
    /// In a task of its own: on SQLite the statements of a canceled task throw `CancellationError`, and the job's
    /// task is canceled by the heartbeat that sees the row no longer running after such a commit.
    private func landedEarlier(
        _ jobID: UUID, attempt held: PostgresCompletion.RowBefore, success: JobLifecycle.Success
    ) async throws -> JobLifecycle.Published? {
        try await Task { try await landedEarlierRead(jobID, attempt: held, success: success) }.value
    }

    private func landedEarlierRead(
        _ jobID: UUID, attempt held: PostgresCompletion.RowBefore, success: JobLifecycle.Success
    ) async throws -> JobLifecycle.Published? {
        let database = context.database
        guard let row = try await JobRecord.find(jobID, on: database), row.status == JobStatus.succeeded.rawValue,
            row.attempts == held.attempts
        else { return nil }
        if let image = success.outcome.images.first?.id {
            guard let stored = try await ImageRecord.find(image, on: database), stored.$job.id == jobID else { return nil }
        }
        let types = [JobEventType.storageFailed.rawValue, JobEventType.succeeded.rawValue]
        let events = try await JobEventRecord.query(on: database).filter(\.$jobID == jobID).filter(\.$type ~~ types)
            .sort(\.$seq).all()
        context.logger.warning("a succeeded job's commit had landed though its answer was lost", metadata: ["job": "\(jobID)"])
        let recorded = events.map {
            JobEventPublisher.RecordedEvent(event: JobEvent($0), kind: row.kind, status: row.status, errorCode: row.errorCode)
        }
        return JobLifecycle.Published(events: recorded, job: row)
    }
}

extension Duration {
    fileprivate var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
