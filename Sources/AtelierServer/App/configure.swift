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
    ContentConfiguration.global.use(encoder: JSONEncoder.api, for: .json)
    try registerRoutes(app)
    app.lifecycle.use(SQLiteJournalLifecycle())
    app.lifecycle.use(RegistryOverridesLifecycle())
}
