import AtelierCore
import Fluent
import Foundation
import Synchronization

/// The process's periodic chores, a service of its own in the `ServiceGroup` (`Application.addHousekeeping`):
/// every few seconds it expires the leases of jobs whose worker died (requeued, or failed on their last attempt,
/// with their reservation released), and once a minute it runs retention (finished jobs and their images older
/// than the retention setting), releases spend reservations of jobs that ended unsuccessfully, purges old rate
/// counters, login throttles and expired sessions, reloads registry overrides (so admin changes made on another
/// instance arrive here) and sends model shutdown notices. On graceful shutdown a pass in progress finishes first.
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

    /// True when a minute has passed since the chores last started (the first a minute after start-up).
    func choresDue() -> Bool {
        let now = clock.now()
        return lastRun.withLock { last in
            if last == 0 { last = now }
            guard now - last >= Self.interval else { return false }
            last = now
            return true
        }
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
