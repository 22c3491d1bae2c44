import AtelierCore
import Fluent
import Vapor

/// The long-lived parts of one Atelier instance, kept in `app.storage`.
public struct AtelierServices: Sendable {
    public let config: AtelierConfig
    public let provider: any ImageProvider
    public let blobs: any BlobStore
    public let hub: JobEventHub
    public let clock: AtelierClock
    /// Set when the database is PostgreSQL: cross-instance events and wake-ups.
    let relay: PostgresEventRelay?
    /// The configured registry with the admin's overrides (enabled, prices) applied.
    public let liveRegistry: LiveModelRegistry
    public let metrics: AtelierMetrics
    /// Compatible-route callers waiting for their upstream answer on this instance (the fast path).
    let responseTaps = ResponseTaps()
    /// New jobs commit in groups: those created together share one transaction (see `GroupCommit`).
    /// Their transactions also store the requests-per-minute hits decided since the last write (SQLite).
    let admissions: GroupCommit<JobLifecycle.Published>
    /// Jobs that succeed together commit together (see `JobLifecycle.succeed`).
    let completions = GroupCommit<JobLifecycle.Published?>()
    /// PostgreSQL: requests-per-minute hits that arrive together share one statement (see `RateHitBatcher`).
    let requestHits = RateHitBatcher()
    /// SQLite: requests-per-minute hits decided in memory, stored behind (see `RequestHitCounts`).
    let requestCounts: RequestHitCounts

    init(
        config: AtelierConfig, provider: any ImageProvider, blobs: any BlobStore, hub: JobEventHub, clock: AtelierClock,
        relay: PostgresEventRelay?, liveRegistry: LiveModelRegistry, metrics: AtelierMetrics
    ) {
        (self.config, self.provider, self.blobs, self.hub, self.clock) = (config, provider, blobs, hub, clock)
        (self.relay, self.liveRegistry, self.metrics) = (relay, liveRegistry, metrics)
        requestCounts = RequestHitCounts()
        admissions = GroupCommit(passengers: requestCounts)
    }

    /// The registry as it stands now (shut-down models retired, near ones deprecated): requests check against it.
    var registry: ModelRegistry { liveRegistry.dated(at: clock.now()) }
    /// The validator with the preview formats enabled now (environment and admin setting).
    func validator(_ database: any Database) async throws -> ImageRequestValidator {
        let enabled = try await PreviewFormatSettings.enabled(database, config: config)
        return ImageRequestValidator(registry: registry, enabledPreviewFormats: enabled.all)
    }
    /// The validator for settings already loaded (job creation reads `app_settings` once).
    func validator(_ settings: RuntimeSettings) -> ImageRequestValidator {
        let enabled = PreviewFormatSettings(forced: config.previewFormats, admin: settings.adminPreviewFormats)
        return ImageRequestValidator(registry: registry, enabledPreviewFormats: enabled.all)
    }
    /// Costs use every configured model, so jobs of a model that has since shut down keep their prices.
    var costs: CostCalculator { CostCalculator(registry: liveRegistry.current) }
}

struct AtelierServicesKey: StorageKey { typealias Value = AtelierServices }

extension Application {
    private struct WorkerKey: StorageKey { typealias Value = JobWorker }

    public var atelier: AtelierServices {
        get {
            guard let services = storage[AtelierServicesKey.self] else {
                fatalError("Atelier services are not configured: call configure(_:config:) first.")
            }
            return services
        }
        set { storage[AtelierServicesKey.self] = newValue }
    }

    /// The in-process worker, when this process runs one.
    public var jobWorker: JobWorker? {
        get { storage[WorkerKey.self] }
        set { storage[WorkerKey.self] = newValue }
    }

    func publisher(on database: (any Database)? = nil) -> JobEventPublisher {
        JobEventPublisher(
            database: database ?? db, hub: atelier.hub, clock: atelier.clock, renderer: JobEventJSON(offline: atelier.config.isOffline),
            relay: atelier.relay, metrics: atelier.metrics)
    }

    /// The job state machine over this app's database and event publisher.
    func lifecycle() -> JobLifecycle {
        JobLifecycle(database: db, publisher: publisher())
    }

    /// Builds a worker over this app's services (started by `serve` or `worker`, or driven by tests).
    public func makeJobWorker() -> JobWorker {
        let services = atelier
        let gate = upstreamGate()
        var queue = JobQueue(
            database: db, settings: services.config.worker, clock: services.clock,
            killSwitchForced: services.config.access.killSwitch)
        queue.gate = gate
        var context = WorkerContext(
            database: db, blobs: services.blobs, provider: services.provider, publisher: publisher(), queue: queue,
            liveRegistry: services.liveRegistry, clock: services.clock, logger: logger, metrics: services.metrics)
        context.gate = gate
        context.responseTaps = services.responseTaps
        // SQLite only: one writer, so successes that end together share a transaction and its fsync. PostgreSQL
        // shares WAL flushes between concurrent commits itself, and a group there updated several jobs' rows in one
        // transaction in arrival order while a worker's heartbeat updated the same rows in scan order: a deadlock
        // (40P01, seen on the PostgreSQL lane) that failed a paid-for job. One job's row per transaction cannot.
        if db.sql.dialect.name != "postgresql" { context.completions = services.completions }
        return JobWorker(context: context, hub: services.hub, settings: services.config.worker)
    }
}

extension Application {
    /// The upstream keys' shared rate-limit state.
    func upstreamGate(on database: (any Database)? = nil) -> UpstreamGate {
        let keys = atelier.config.upstreamKeys
        return UpstreamGate(
            database: database ?? db, upstream: atelier.config.upstream, keyLabels: keys.map(\.label),
            fingerprints: Dictionary(uniqueKeysWithValues: keys.map { ($0.label, UpstreamKeyFingerprint.of($0.apiKey)) }),
            clock: atelier.clock)
    }
}

extension Request {
    var atelier: AtelierServices { application.atelier }
}
