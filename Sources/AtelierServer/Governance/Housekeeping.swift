import AtelierCore
import Fluent
import Foundation
import Synchronization

/// Periodic chores the worker runs at most once a minute: retention (delete finished jobs and their images older
/// than the retention setting), spend reservations of jobs that ended unsuccessfully, old rate counters and expired sessions, and reloading registry overrides
/// (so admin changes made on another instance arrive here).
final class Housekeeping: Sendable {
    static let interval = 60.0

    let database: any Database
    let blobs: any BlobStore
    let clock: AtelierClock
    let access: AtelierConfig.Access
    let registry: LiveModelRegistry
    private let lastRun = Mutex<Double>(0)

    init(database: any Database, blobs: any BlobStore, clock: AtelierClock, access: AtelierConfig.Access, registry: LiveModelRegistry) {
        self.database = database
        self.blobs = blobs
        self.clock = clock
        self.access = access
        self.registry = registry
    }

    /// Starts the chores in the background when a minute has passed since the last start (the first a minute
    /// after start-up), so the lease heartbeat that calls this is never held up.
    func startIfDue() {
        let now = clock.now()
        let due = lastRun.withLock { last in
            if last == 0 { last = now }
            guard now - last >= Self.interval else { return false }
            last = now
            return true
        }
        guard due else { return }
        Task { [self] in try? await run() }
    }

    func run() async throws {
        let settings = try await RuntimeSettings.load(database, access: access)
        if settings.retentionDays > 0 { try await sweep(olderThanDays: settings.retentionDays) }
        try await SpendReconciler(database: database, clock: clock).releaseEnded()
        try await RateLimiter(database: database, clock: clock).purge()
        try await LoginThrottle(database: database, clock: clock).purge()
        try await SessionRecord.query(on: database).filter(\.$expiresAt < clock.now()).delete()
        try await RegistryOverrides(database: database, registry: registry).reload()
        try await WebhookNotices(database: database, clock: clock).modelsShuttingDown(in: registry.current)
    }

    /// Deletes finished jobs created more than `days` days ago, with their images and blobs; returns how many.
    @discardableResult
    func sweep(olderThanDays days: Int) async throws -> Int {
        let cutoff = clock.now() - Double(days) * 86_400
        let deleter = JobDeleter(database: database, blobs: blobs, clock: clock)
        var count = 0
        while true {
            let jobs = try await JobLifecycle.purgeable(before: cutoff, limit: 100, on: database)
            for job in jobs { try await deleter.delete(job) }
            count += jobs.count
            if jobs.count < 100 { return count }
        }
    }
}
