import AtelierCore
import AtelierServer
import Fluent
import Foundation
import Vapor

/// Runs `body` with a configured, migrated Atelier app on its own database, and shuts it down afterwards
/// (also when `body` throws). Runs on `AtelierClock.pinned()` unless `overrides` names a clock.
public func withTestApp(
    _ config: AtelierConfig? = nil, overrides: ServiceOverrides = .init(),
    _ body: (Application) async throws -> Void
) async throws {
    var overrides = overrides
    overrides.clock = overrides.clock ?? .pinned()
    // A lane runs a few hundred tests at once on two cores; a burst test's requests (100 creations for one owner,
    // each its own statement on PostgreSQL) outlasted the server's 30 s pool wait there and were answered 503
    // `busy`. Tests check answers and rows, not how long the pool makes a request wait (`PoolTimeoutTests` sets its own).
    overrides.databasePoolTimeout = overrides.databasePoolTimeout ?? .minutes(5)
    let app = try await Application.make(.testing)
    app.logger.logLevel = .warning
    let config = try config ?? .testing()
    do {
        try await configure(app, config: config, overrides: overrides)
        try await app.autoMigrate()
        try await app.asyncBoot()
    } catch {
        await teardown(app, config)
        throw error
    }
    let stopRelay = app.startEventRelay()  // a served app runs it in its service group
    do { try await body(app) } catch {
        await stopRelay()
        await teardown(app, config)
        throw error
    }
    await stopRelay()
    await teardown(app, config)
}

private func teardown(_ app: Application, _ config: AtelierConfig) async {
    try? await app.dropIsolatedSchema()
    try? await app.asyncShutdown()
    try? FileManager.default.removeItem(atPath: config.dataDirectory)
}
