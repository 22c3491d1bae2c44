import AtelierCore
import Foundation
import Logging
import Synchronization

/// Claims jobs and runs up to `concurrency` of them at once. Woken at once by enqueues in this process
/// (and, on PostgreSQL, by NOTIFY from other instances); polls every few seconds for back-offs and other writers.
public final class JobWorker: Sendable {
    public let id: String
    let context: WorkerContext
    let hub: JobEventHub
    let settings: AtelierConfig.Worker
    private let running = RunningJobs()
    private let stopping = Atomic<Bool>(false)

    init(context: WorkerContext, hub: JobEventHub, settings: AtelierConfig.Worker) {
        self.id = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
        self.context = context
        self.hub = hub
        self.settings = settings
    }

    private var runner: JobRunner { JobRunner(context: context, workerID: id) }
    public var inFlight: Int { running.count }

    /// Claims and runs one job inline; false when nothing was due. For tests and tools.
    @discardableResult
    public func processNext() async throws -> Bool {
        guard let job = try await context.queue.claim(workerID: id) else { return false }
        _ = await runner.run(job) { false }
        return true
    }

    /// Runs until the task is canceled, then stops claiming and gives running jobs `shutdownGraceSeconds`
    /// to finish before canceling them (their leases are released, so nothing is lost).
    public func run() async {
        context.logger.info("worker started", metadata: ["worker": "\(id)", "concurrency": "\(settings.concurrency)"])
        let maintenance = Task { await maintain() }
        while !Task.isCancelled {
            await claimWhileCapacity()
            await hub.waitForWork(timeout: settings.pollSeconds)
        }
        maintenance.cancel()
        await drain()
    }

    /// Asks a running job to stop (its upstream request is aborted).
    public func cancel(_ jobID: UUID) {
        running.task(for: jobID)?.cancel()
    }

    private func claimWhileCapacity() async {
        while !Task.isCancelled && inFlight < settings.concurrency {
            do {
                guard let job = try await context.queue.claim(workerID: id) else { return }
                start(job)
            } catch {
                context.logger.error("claiming failed", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    private func start(_ job: JobRecord) {
        guard let jobID = job.id else { return }
        running.start(jobID) { [runner] in
            _ = await runner.run(job) { self.stopping.load(ordering: .relaxed) }
        } afterwards: { [hub] in
            await hub.wakeWorkers()
        }
    }

    /// Heartbeat: renews leases, cancels jobs whose cancellation was requested elsewhere, and requeues jobs
    /// whose worker died.
    private func maintain() async {
        let interval = max(0.5, min(settings.leaseSeconds / 3, 5))
        while !Task.isCancelled {
            do {
                let ids = running.jobIDs
                let lifecycle = context.lifecycle
                for canceled in try await lifecycle.heartbeat(workerID: id, jobIDs: ids, leaseSeconds: settings.leaseSeconds) {
                    cancel(canceled)
                }
                // Each expired job's new status, release and event are committed and delivered here.
                let (requeued, _, failed) = try await lifecycle.expireLeases()
                for jobID in requeued {
                    context.logger.warning("requeued a job whose lease expired", metadata: ["job": "\(jobID)"])
                }
                for jobID in failed {
                    context.logger.error("a job's lease expired on its last attempt; failed it", metadata: ["job": "\(jobID)"])
                }
                if !requeued.isEmpty { await hub.wakeWorkers() }
                context.housekeeping.startIfDue()
            } catch {
                context.logger.error("lease maintenance failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(interval))
        }
    }

    private func drain() async {
        stopping.store(true, ordering: .relaxed)
        let tasks = running.tasks
        guard !tasks.isEmpty else { return }
        context.logger.info("waiting for running jobs", metadata: ["count": "\(tasks.count)"])
        let grace = settings.shutdownGraceSeconds
        let deadline = Task {
            try? await Task.sleep(for: .seconds(grace))
            tasks.forEach { $0.cancel() }
        }
        for task in tasks { await task.value }
        deadline.cancel()
    }
}
