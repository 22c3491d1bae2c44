import Fluent
import SQLKit
import Vapor

/// Turns on SQLite's WAL journal after boot, so a separate worker process can write while the server reads.
struct SQLiteJournalLifecycle: LifecycleHandler {
    func didBootAsync(_ app: Application) async throws {
        if let sql = app.db as? any SQLDatabase, sql.dialect.name == "sqlite" {
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
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
