import Fluent
import SQLKit
import Vapor

/// Turns on SQLite's WAL journal after boot, so a separate worker process can write while the server reads.
struct SQLiteJournalLifecycle: LifecycleHandler {
    func didBootAsync(_ app: Application) async throws { try await app.useSQLiteWAL() }
}

extension Application {
    /// Turns on SQLite's WAL journal unless the file has it already (it persists). Switching needs the database to
    /// itself: `serve` and `worker` do it right after their migrations, before their loops start, since a worker's
    /// write transaction during the switch failed the boot with "database is locked" (seen on fresh data folders).
    func useSQLiteWAL() async throws {
        guard let sql = db as? any SQLDatabase, sql.dialect.name == "sqlite" else { return }
        let mode = try await sql.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
        if mode?.lowercased() != "wal" { try await sql.raw("PRAGMA journal_mode=WAL").run() }
    }
}

extension Application {
    /// The PostgreSQL event relay as a background loop (nil on SQLite, where there is no other instance to hear).
    var eventRelayLoop: BackgroundLoop? {
        atelier.relay.map { relay in BackgroundLoop(description: "event relay", loop: { await relay.run() }) }
    }

    /// Runs the event relay (when there is one) until the returned stop function is called, which waits for it to
    /// end: for apps that are not run by `runServices()`, such as tests' apps.
    public func startEventRelay() -> @Sendable () async -> Void {
        guard let relay = atelier.relay else { return {} }
        let task = Task { await relay.run() }
        return {
            task.cancel()
            await task.value
        }
    }
}
