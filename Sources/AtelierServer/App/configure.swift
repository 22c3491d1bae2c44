import AtelierCore
import Fluent
import NIOCore
import Vapor

/// Replacements for the services `configure` would build; tests use them to inject fakes.
public struct ServiceOverrides: Sendable {
    public var provider: (any ImageProvider)?
    public var blobs: (any BlobStore)?
    public var clock: AtelierClock?
    /// How long a query waits for a free database connection before the request fails with 503 `busy`.
    public var databasePoolTimeout: TimeAmount?

    public init(
        provider: (any ImageProvider)? = nil, blobs: (any BlobStore)? = nil, clock: AtelierClock? = nil,
        databasePoolTimeout: TimeAmount? = nil
    ) {
        self.provider = provider
        self.blobs = blobs
        self.clock = clock
        self.databasePoolTimeout = databasePoolTimeout
    }
}

/// Wires one Atelier instance: database, services, middleware, routes. Reads like a table of contents.
public func configure(_ app: Application, config: AtelierConfig, overrides: ServiceOverrides = .init()) async throws {
    try app.useDatabase(
        config.database, dataDirectory: config.dataDirectory, poolTimeout: overrides.databasePoolTimeout ?? Application.poolTimeout)
    try await app.prepareDatabase(config.database)
    app.migrations.addAtelierMigrations()
    app.atelier = try app.makeServices(config: config, overrides: overrides)
    app.useMiddleware(config: config)
    app.routes.defaultMaxBodySize = "1mb"
    app.http.server.configuration.idleTimeout = .seconds(Int64(config.access.httpIdleTimeoutSeconds))
    // Connections opened at once past the listen queue (Vapor's default 256) are dropped and retried by the client's
    // kernel 1, 3, 7… s later: a burst of 2,000 lost seconds there. The kernel caps it at net.core.somaxconn.
    app.http.server.configuration.backlog = 4096
    ContentConfiguration.global.use(encoder: JSONEncoder.api, for: .json)
    try registerRoutes(app)
    app.lifecycle.use(SQLiteJournalLifecycle())
    app.lifecycle.use(RegistryOverridesLifecycle())
}
