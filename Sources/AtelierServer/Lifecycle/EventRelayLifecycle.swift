import Fluent
import SQLKit
import Vapor

/// Starts the PostgreSQL event relay after boot (when there is one) and turns on SQLite's WAL journal
/// so a separate worker process can write while the server reads.
struct EventRelayLifecycle: LifecycleHandler {
    final class Box: @unchecked Sendable { var task: Task<Void, Never>? }
    private struct Key: StorageKey { typealias Value = Box }

    func didBootAsync(_ app: Application) async throws {
        if let sql = app.db as? any SQLDatabase, sql.dialect.name == "sqlite" {
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        guard let relay = app.atelier.relay else { return }
        let box = Box()
        box.task = Task { await relay.run() }
        app.storage[Key.self] = box
    }

    func shutdownAsync(_ app: Application) async {
        guard let box = app.storage[Key.self] else { return }
        box.task?.cancel()
        await box.task?.value
    }
}

/// Runs the job worker in this process from boot to shutdown; on shutdown it stops claiming and lets running
/// jobs finish within the grace period (or releases their leases).
public struct WorkerLifecycle: LifecycleHandler {
    final class Box: @unchecked Sendable { var task: Task<Void, Never>? }
    private struct Key: StorageKey { typealias Value = Box }

    public init() {}

    public func didBootAsync(_ app: Application) async throws {
        let worker = app.makeJobWorker()
        app.jobWorker = worker
        let box = Box()
        box.task = Task { await worker.run() }
        app.storage[Key.self] = box
    }

    public func shutdownAsync(_ app: Application) async {
        guard let box = app.storage[Key.self] else { return }
        box.task?.cancel()
        await app.atelier.hub.wakeWorkers()
        await box.task?.value
    }
}
