/// This process's worker: how jobs reached it (a claim statement, or their own admission on the fast path) and how
/// the attempts it ran ended. Per process, like the worker's own counters (`JobWorker.claimed`,
/// `startedAtAdmission`); the cluster-wide view is `atelier_jobs_finished_total` and `atelier_jobs`.
extension AtelierMetrics {
    func workerClaimed(_ count: Int) {
        guard count > 0 else { return }
        registry.makeCounter(descriptor: Self.name("worker_jobs_claimed", "total", "Jobs this worker took by a claim statement."))
            .increment(by: Int64(count))
    }

    func workerStartedAtAdmission() {
        registry.makeCounter(
            descriptor: Self.name(
                "worker_jobs_started_at_admission", "total", "Jobs started on this worker in their admission transaction (the fast path).")
        ).increment()
    }

    /// An attempt this worker gave back to the queue: `retry` (a retryable failure, after its back-off), `wait`
    /// (no upstream room yet, no attempt spent), `release` (graceful shutdown, or another key may run it).
    func workerRequeued(reason: String) {
        registry.makeCounter(
            descriptor: Self.name("worker_jobs_requeued", "total", "Attempts this worker gave back to the queue, by reason."),
            labels: [("reason", reason)]
        ).increment()
    }

    /// A succeeded job's commit that failed and is tried again (`SuccessCommit`), by the driver's reason or SQLSTATE.
    func commitRetried(reason: String) {
        registry.makeCounter(
            descriptor: Self.name("commit_retries", "total", "Succeeded jobs' commits that failed and were tried again, by reason."),
            labels: [("reason", reason)]
        ).increment()
    }

    /// An attempt this worker ended the job with: `succeeded`, `failed` or `canceled`.
    func workerFinished(status: String) {
        registry.makeCounter(
            descriptor: Self.name("worker_jobs_finished", "total", "Jobs this worker ended, by final status."),
            labels: [("status", status)]
        ).increment()
    }
}

extension JobLifecycle.Requeue {
    /// The `reason` label of `atelier_worker_jobs_requeued_total`.
    var metricReason: String {
        switch self {
        case .retryLater: "retry"
        case .waitForRoom: "wait"
        case .abandon: "release"
        }
    }
}
