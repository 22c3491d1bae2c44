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
    /// Running its loop (not yet draining): only then does it take jobs started at their admission.
    private let accepting = Atomic<Bool>(false)
    /// Slots taken by admissions whose transaction has not ended yet (see `reserveStart`).
    private let reserved = Atomic<Int>(0)
    private let claimedCount = Atomic<Int>(0)
    private let startedAtAdmissionCount = Atomic<Int>(0)

    init(context: WorkerContext, hub: JobEventHub, settings: AtelierConfig.Worker) {
        self.id = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
        self.context = context
        self.hub = hub
        self.settings = settings
    }

    private var runner: JobRunner { JobRunner(context: context, workerID: id) }
    public var inFlight: Int { running.count + reserved.load(ordering: .acquiring) }
    /// Jobs this worker took by a claim statement, and jobs it was given at their admission (the fast path).
    public var claimed: Int { claimedCount.load(ordering: .relaxed) }
    public var startedAtAdmission: Int { startedAtAdmissionCount.load(ordering: .relaxed) }
    /// Its loop runs, so new jobs may start on it at their admission (tests wait for it).
    var acceptsStarts: Bool { accepting.load(ordering: .acquiring) }

    /// Claims and runs one job inline; false when nothing was due. For tests and tools.
    @discardableResult
    public func processNext() async throws -> Bool {
        guard let job = try await context.queue.claim(workerID: id) else { return false }
        claimedCount.add(1, ordering: .relaxed)
        context.metrics.workerClaimed(1)
        _ = await runner.run(job) { false }
        return true
    }

    /// Runs until the task is canceled, then stops claiming and gives running jobs `shutdownGraceSeconds`
    /// to finish before canceling them (their leases are released, so nothing is lost).
    public func run() async {
        context.logger.info("worker started", metadata: ["worker": "\(id)", "concurrency": "\(settings.concurrency)"])
        let maintenance = Task { await maintain() }
        accepting.store(true, ordering: .releasing)
        while !Task.isCancelled {
            await claimWhileCapacity()
            await hub.waitForWork(timeout: settings.pollSeconds)
        }
        accepting.store(false, ordering: .releasing)
        maintenance.cancel()
        await drain()
    }

    /// The fast path: takes a slot for a job about to be created, if this worker runs and has one free. The job's
    /// admission transaction then starts it when the queue would (`JobStartNow`); after its commit, `startAdmitted`
    /// runs it or `releaseStart` gives the slot back.
    func reserveStart() -> JobStartNow? {
        guard accepting.load(ordering: .acquiring), !context.queue.killSwitchForced else { return nil }
        while true {
            let taken = reserved.load(ordering: .acquiring)
            guard running.count + taken < settings.concurrency else { return nil }
            if reserved.compareExchange(expected: taken, desired: taken + 1, ordering: .acquiringAndReleasing).exchanged { break }
        }
        return JobStartNow(
            workerID: id, leaseSeconds: settings.leaseSeconds, perOwnerLimit: settings.perOwnerLimit, gate: context.gate)
    }

    /// The admission left the job queued (or failed): the slot is free again.
    func releaseStart() {
        reserved.subtract(1, ordering: .acquiringAndReleasing)
    }

    /// Runs a job its admission transaction claimed for this worker (`JobLifecycle.enqueue(… startNow:)`), in the
    /// slot `reserveStart` took: registered like a claimed job (heartbeat, cancel, drain, `inFlight`).
    func startAdmitted(_ job: JobRecord, _ admitted: JobStartNow.Admitted) {
        defer { releaseStart() }
        guard let jobID = job.id else { return }
        startedAtAdmissionCount.add(1, ordering: .relaxed)
        context.metrics.workerStartedAtAdmission()
        var gate = context.gate
        if let rules = admitted.rules { gate?.upstream.rules = rules }
        running.start(jobID) { [runner, gate] in
            _ = await runner.runAdmitted(job, upstreamKey: admitted.upstreamKey, gate: gate) { self.stopping.load(ordering: .relaxed) }
        } afterwards: { [hub] in
            await hub.wakeWorkers()
        }
    }

    /// Asks a running job to stop (its upstream request is aborted).
    public func cancel(_ jobID: UUID) {
        running.task(for: jobID)?.cancel()
    }

    /// Claims as many jobs as there is room for, up to `claimBatch` per statement, until none is due.
    private func claimWhileCapacity() async {
        while !Task.isCancelled && inFlight < settings.concurrency {
            do {
                let room = min(settings.concurrency - inFlight, Self.claimBatch)
                let claimed = try await context.queue.claim(workerID: id, limit: room)
                claimedCount.add(claimed.jobs.count, ordering: .relaxed)
                context.metrics.workerClaimed(claimed.jobs.count)
                for job in claimed.jobs { start(job, gate: claimed.gate) }
                if claimed.jobs.count < room { return }
            } catch {
                context.logger.error("claiming failed", metadata: ["error": "\(String(reflecting: error))"])
                return
            }
        }
    }

    /// Jobs one claim statement takes at most: a backlog starts in few statements, and a claim locks (PostgreSQL)
    /// or holds SQLite's write lock only briefly.
    static let claimBatch = 16

    private func start(_ job: JobRecord, gate: UpstreamGate?) {
        guard let jobID = job.id else { return }
        running.start(jobID) { [runner] in
            _ = await runner.run(job, gate: gate) { self.stopping.load(ordering: .relaxed) }
        } afterwards: { [hub] in
            await hub.wakeWorkers()
        }
    }

    /// Heartbeat: renews the leases of the jobs this worker runs and cancels those whose cancellation was requested
    /// elsewhere (or whose lease was lost). Leases of dead workers are expired by `HousekeepingLoop`.
    private func maintain() async {
        let interval = Self.heartbeatSeconds(leaseSeconds: settings.leaseSeconds)
        while !Task.isCancelled {
            do {
                let ids = running.jobIDs
                for canceled in try await context.lifecycle.heartbeat(workerID: id, jobIDs: ids, leaseSeconds: settings.leaseSeconds) {
                    cancel(canceled)
                }
            } catch {
                context.logger.error("lease heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(interval))
        }
    }

    /// A third of the lease, between 0.5 and 5 s: a lease is renewed at least twice before it could expire.
    static func heartbeatSeconds(leaseSeconds: Double) -> Double { max(0.5, min(leaseSeconds / 3, 5)) }

    private func drain() async {
        stopping.store(true, ordering: .relaxed)
        // An admission that took a slot before `accepting` turned off registers its job when it commits.
        let admitting = ContinuousClock.now
        while reserved.load(ordering: .acquiring) > 0 && ContinuousClock.now - admitting < .seconds(settings.shutdownGraceSeconds) {
            try? await Task.sleep(for: .milliseconds(5))
        }
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
