import AtelierCore
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import SQLKit
import ObjectStorage
import OpenAIImages
import Vapor

extension Application {
    /// SQLite runs its blocking calls on the app's thread pool, and its driver retries a locked database in a
    /// tight loop on the thread that asked. With NIO's shared pool (one thread per core) two waiting writers can
    /// occupy every thread while the connection holding the lock waits for one to run its next statement. So an
    /// SQLite app gets a pool of its own, larger than its connection count: a lock holder always finds a thread.
    /// Its transactions begin IMMEDIATE (`ImmediateSQLiteConfiguration`), one at a time (`SQLiteWriteQueue`): a
    /// writer waits its turn in the process, without a connection or a thread, then takes the lock up front.
    static let sqliteThreads = 8
    static let poolTimeout: TimeAmount = .seconds(30)

    func useDatabase(_ database: AtelierConfig.Database, dataDirectory: String, poolTimeout: TimeAmount) throws {
        switch database {
        case .sqliteMemory:
            threadPool = NIOThreadPool(numberOfThreads: Self.sqliteThreads)
            databases.use(
                .immediateTransactions(.sqlite(.memory, connectionPoolTimeout: poolTimeout), queueTimeout: Self.poolTimeout),
                as: .sqlite)
        case .sqliteFile(let path):
            threadPool = NIOThreadPool(numberOfThreads: Self.sqliteThreads)
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            databases.use(
                .immediateTransactions(.sqlite(.file(path), connectionPoolTimeout: poolTimeout), queueTimeout: Self.poolTimeout),
                as: .sqlite)
        case .postgres(let url):
            let (plain, schema) = Self.splitSearchPath(url)
            var configuration = try SQLPostgresConfiguration(url: plain)
            if let schema { configuration.searchPath = [schema] }
            databases.use(
                .postgres(configuration: configuration, maxConnectionsPerEventLoop: 4, connectionPoolTimeout: poolTimeout),
                as: .psql)
        }
    }

    /// Creates the schema named by a `search_path` URL parameter (used to isolate test runs).
    func prepareDatabase(_ database: AtelierConfig.Database) async throws {
        guard case .postgres(let url) = database, let schema = Self.splitSearchPath(url).schema else { return }
        try await db.sql.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run()
    }

    /// Drops the schema named by a `search_path` URL parameter (test isolation).
    public func dropIsolatedSchema() async throws {
        guard let services = storage[AtelierServicesKey.self], case .postgres(let url) = services.config.database,
            let schema = Self.splitSearchPath(url).schema
        else { return }
        try await db.sql.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run()
    }

    /// Removes `search_path=NAME` from a PostgreSQL URL's query, returning it separately.
    static func splitSearchPath(_ url: String) -> (url: String, schema: String?) {
        guard var parts = URLComponents(string: url) else { return (url, nil) }
        let schema = parts.queryItems?.first { $0.name == "search_path" }?.value
        parts.queryItems = parts.queryItems?.filter { $0.name != "search_path" }
        if parts.queryItems?.isEmpty == true { parts.queryItems = nil }
        return (parts.string ?? url, schema)
    }

    func makeServices(config: AtelierConfig, overrides: ServiceOverrides) throws -> AtelierServices {
        // The one shared client (upstream calls, S3): enough connections per host for every worker slot
        // (AsyncHTTPClient's default of 8 would cap in-flight upstream calls whatever WORKER_CONCURRENCY says), a
        // short connect timeout, no redirects, socket reads of up to 1 MiB. Set before the client is first used.
        var httpConfiguration = http.client.configuration
        httpConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, config.worker.concurrency)
        httpConfiguration.timeout = .init(connect: .seconds(10), read: nil)
        httpConfiguration.redirectConfiguration = .disallow
        httpConfiguration.readUpstreamInLargeParts()
        http.client.configuration = httpConfiguration
        let hub = JobEventHub()
        let clock = overrides.clock ?? .system
        let blobs: any BlobStore
        if let custom = overrides.blobs {
            blobs = custom
        } else if let s3 = config.s3 {
            blobs = S3BlobStore(configuration: s3, client: http.client.shared)
        } else {
            blobs = try LocalDiskBlobStore(root: URL(fileURLWithPath: config.dataDirectory).appendingPathComponent("blobs"))
        }
        let provider: any ImageProvider
        if let custom = overrides.provider {
            provider = custom
        } else if let openAI = config.openAI {
            // One client per upstream key (`OPENAI_API_KEYS`), all over the one shared HTTPClient.
            provider = OpenAIKeyedImageProvider(
                providers: config.upstreamKeys.map { key in
                    let client = OpenAIImagesClient(
                        httpClient: http.client.shared,
                        configuration: OpenAIConfiguration(
                            apiKey: key.apiKey, baseURL: openAI.baseURL, organization: key.organization,
                            project: key.project, timeout: .seconds(openAI.timeoutSeconds)),
                        logger: logger)
                    return (key.label, OpenAIImageProvider(client: client))
                })
        } else {
            logger.notice("No OPENAI_API_KEY: running as an offline demo with synthetic images.")
            provider = OfflineImageProvider(registry: config.registry)
        }
        let liveRegistry = LiveModelRegistry(base: config.registry)
        liveRegistry.logger = logger
        var relay: PostgresEventRelay?
        if case .postgres(let url) = config.database {
            relay = PostgresEventRelay(
                configuration: try SQLPostgresConfiguration(url: Self.splitSearchPath(url).url).coreConfiguration, database: db, hub: hub,
                registry: liveRegistry, eventLoop: eventLoopGroup.any(), logger: logger)
        }
        return AtelierServices(
            config: config, provider: provider, blobs: blobs, hub: hub, clock: clock, relay: relay, liveRegistry: liveRegistry,
            metrics: AtelierMetrics())
    }

    /// Every middleware is a plain (future) `Middleware` (`CallerResolver` starts a Task only for a lookup), and `StaticFiles` runs Vapor's async
    /// `FileMiddleware` only off the API's paths: an `AsyncMiddleware` runs each request through a new Task and back
    /// (docs/ARCHITECTURE.md, "The middleware chain").
    func useMiddleware(config: AtelierConfig) {
        middleware = Middlewares()
        middleware.use(RouteLoggingMiddleware(logLevel: .info))
        middleware.use(APIErrorMiddleware())
        middleware.use(SecurityHeaders(imageOrigin: PresignedImageRedirect.imageOrigin(config)))
        if !config.access.loginRequired {
            LocalMode.prepare(self)
            middleware.use(LocalModeGuard())
        }
        middleware.use(CallerResolver())
        middleware.use(OpenAPIDocumentMiddleware(publicDirectory: config.publicDirectory))
        // No studio folder found: no file serving at all (an empty path would mean "/").
        if !config.publicDirectory.isEmpty {
            middleware.use(StaticFiles(publicDirectory: config.publicDirectory))
        }
    }
}
