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
