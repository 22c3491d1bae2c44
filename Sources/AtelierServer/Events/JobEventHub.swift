import Foundation

/// Fans events out to the SSE streams connected to this instance. Events from other instances arrive
/// through `PostgresEventRelay` and are delivered here the same way.
public actor JobEventHub {
    public struct Filter: Sendable {
        public var owner: String?
        public var jobID: UUID?

        public init(owner: String? = nil, jobID: UUID? = nil) {
            self.owner = owner
            self.jobID = jobID
        }

        func matches(_ event: JobEvent) -> Bool {
            (owner == nil || owner == event.owner) && (jobID == nil || jobID == event.jobID)
        }
    }

    private var subscribers: [UUID: (Filter, AsyncStream<JobEvent>.Continuation)] = [:]
    /// The subscribers that follow one job, by job, and the others (an owner's or everyone's stream): an event is
    /// offered to its job's and to the others only. Scanning every subscriber made each event cost one look per
    /// waiting caller: 2,000 compatible-route callers in flight, each waiting for its own job's end, put the hub's
    /// `deliver` at 3.7 % of Atelier's CPU while their jobs ended (`perf`, bench/README "ninth session").
    private var byJob: [UUID: Set<UUID>] = [:]
    private var wide: Set<UUID> = []
    /// The compatible routes' callers waiting for their job's end, and the jobs that ended lately (no actor hop).
    nonisolated let endings = JobEndings()
    /// Wakes the worker loop when a job is enqueued in this process.
    private var workWaiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    private var pendingWake = false
    /// Tests only: resumed when a worker next waits for work (`untilAWorkerWaits`).
    private var waitWatchers: [CheckedContinuation<Void, Never>] = []
    /// Events a subscriber may fall behind by before its stream is ended.
    let bufferLimit: Int

    public init(bufferLimit: Int = 256) {
        self.bufferLimit = bufferLimit
    }

    /// A live stream of matching events. A subscriber that falls `bufferLimit` events behind is not silently
    /// skipped ahead: it gets every event it has buffered, then its stream ends, so its SSE client reconnects
    /// with the last `id:` it saw and the rest is replayed from the database.
    public func subscribe(_ filter: Filter) -> (UUID, AsyncStream<JobEvent>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .bufferingOldest(bufferLimit))
        subscribers[id] = (filter, continuation)
        if let jobID = filter.jobID { byJob[jobID, default: []].insert(id) } else { wide.insert(id) }
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        guard let (filter, continuation) = subscribers.removeValue(forKey: id) else { return }
        if let jobID = filter.jobID {
            byJob[jobID]?.remove(id)
            if byJob[jobID]?.isEmpty == true { byJob[jobID] = nil }
        } else {
            wide.remove(id)
        }
        continuation.finish()
    }

    public func deliver(_ event: JobEvent) {
        var overflowed: [UUID] = []
        func offer(_ id: UUID) {
            guard let (filter, continuation) = subscribers[id], filter.matches(event) else { return }
            if case .dropped = continuation.yield(event) { overflowed.append(id) }
        }
        endings.delivered(event)  // first: once a subscriber sees a job's end, its followers are done with it
        byJob[event.jobID]?.forEach(offer)
        wide.forEach(offer)
        overflowed.forEach(unsubscribe)
    }

    /// Tests only: how many jobs have subscribers of their own (the index `deliver` reads).
    var followedJobs: Int { byJob.count }

    /// Sends an event to one subscriber only (heartbeats).
    public func deliver(_ event: JobEvent, to subscription: UUID) {
        if case .dropped = subscribers[subscription]?.1.yield(event) { unsubscribe(subscription) }
    }

    public var subscriberCount: Int { subscribers.count }

    /// Signals that work is available.
    public func wakeWorkers() {
        if workWaiters.isEmpty {
            pendingWake = true
        } else {
            workWaiters.values.forEach { $0.resume() }
            workWaiters.removeAll()
        }
    }

    /// Suspends until `wakeWorkers` is called or `timeout` seconds pass; returns at once if a wake-up
    /// arrived since the last wait.
    public func waitForWork(timeout: Double) async {
        if pendingWake {
            pendingWake = false
            return
        }
        let id = UUID()
        await withCheckedContinuation { continuation in
            workWaiters[id] = continuation
            waitWatchers.forEach { $0.resume() }
            waitWatchers.removeAll()
            Task {
                try? await Task.sleep(for: .seconds(timeout))
                self.endWait(id)
            }
        }
    }

    /// Tests only: returns once a worker is suspended in `waitForWork` (so only a wake-up or its timeout moves it).
    public func untilAWorkerWaits() async {
        guard workWaiters.isEmpty else { return }
        await withCheckedContinuation { waitWatchers.append($0) }
    }

    private func endWait(_ id: UUID) { workWaiters.removeValue(forKey: id)?.resume() }

    public func finishAll() {
        endings.close()
        subscribers.values.forEach { $0.1.finish() }
        subscribers.removeAll()
        wakeWorkers()
    }
}
