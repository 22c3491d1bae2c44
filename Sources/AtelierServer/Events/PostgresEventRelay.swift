import Fluent
import FluentPostgresDriver
import Foundation
import Logging
import NIOCore
import PostgresNIO
import SQLKit

/// Carries job events, "work available" signals and "the admin changed the models" between instances sharing one
/// PostgreSQL database, with LISTEN/NOTIFY on one channel. Each message names the sending instance so it is not
/// handled twice.
final class PostgresEventRelay: Sendable {
    static let channel = "atelier_events"

    let configuration: PostgresConnection.Configuration
    let database: any Database
    let hub: JobEventHub
    let registry: LiveModelRegistry
    let instanceID = UUID().uuidString.lowercased()
    let eventLoop: any EventLoop
    let logger: Logger

    init(
        configuration: PostgresConnection.Configuration, database: any Database, hub: JobEventHub,
        registry: LiveModelRegistry, eventLoop: any EventLoop, logger: Logger
    ) {
        self.configuration = configuration
        self.database = database
        self.hub = hub
        self.registry = registry
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Stores an event row and announces it to the other instances in one statement (one round trip); inside a
    /// transaction PostgreSQL sends the notification at the commit.
    func store(_ record: JobEventRecord, on database: any Database) async throws {
        let message = "e|\(instanceID)|\(record.jobID.uuidString.lowercased())|\(record.seq)"
        try await database.sql.raw(
            """
            WITH stored AS (
                INSERT INTO job_events (id, job_id, owner, seq, type, payload, created_at)
                VALUES (\(bind: record.id ?? UUID()), \(bind: record.jobID), \(bind: record.owner), \(bind: record.seq),
                    \(bind: record.type), \(bind: record.payload), \(bind: record.createdAt))
                RETURNING seq)
            SELECT pg_notify(\(bind: Self.channel), \(bind: message)) FROM stored
            """
        ).run()
    }

    func announceWork() async throws {
        try await notify("w|\(instanceID)")
    }

    /// Other instances reload the model overrides at once (validation and prices), rather than at their next
    /// housekeeping pass or, for an HTTP-only instance, never.
    func announceRegistryChange() async throws {
        try await notify("r|\(instanceID)")
    }

    private func notify(_ message: String) async throws {
        try await database.sql.raw("SELECT pg_notify(\(bind: Self.channel), \(bind: message))").run()
    }

    /// Listens until the task is canceled, reconnecting after failures.
    func run() async {
        var delay = 0.5
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: eventLoop, configuration: configuration, id: 1, logger: logger)
                delay = 0.5
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        for try await notification in notifications {
                            await handle(notification.payload)
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning("event relay lost its PostgreSQL connection; reconnecting", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 10)
            }
        }
    }

    private func handle(_ payload: String) async {
        let parts = payload.split(separator: "|").map(String.init)
        guard parts.count >= 2, parts[1] != instanceID else { return }
        if parts[0] == "w" {
            await hub.wakeWorkers()
            return
        }
        if parts[0] == "r" {
            do { try await RegistryOverrides(database: database, registry: registry).reload() } catch {
                logger.warning("could not reload model overrides", metadata: ["error": "\(error)"])
            }
            return
        }
        guard parts[0] == "e", parts.count == 4, let jobID = UUID(uuidString: parts[2]), let seq = Int(parts[3]) else { return }
        do {
            if let record = try await JobEventRecord.query(on: database)
                .filter(\.$jobID == jobID).filter(\.$seq == seq).first()
            {
                await hub.deliver(JobEvent(record))
            }
        } catch {
            logger.debug("event relay could not load event \(jobID):\(seq)", metadata: ["error": "\(error)"])
        }
    }
}
