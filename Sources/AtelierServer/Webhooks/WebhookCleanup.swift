import Fluent
import Foundation
import SQLKit

/// Deletes webhook rows with their delivery logs: one endpoint's, or everything of an account (its endpoints, and
/// its events queued for other endpoints, such as an admin's endpoint for every user).
enum WebhookCleanup {
    static func delete(endpoint id: UUID, on db: any Database) async throws {
        try await delete(deliveries: "webhook_id = \(bind: id)", on: db)
        try await db.sql.raw("DELETE FROM webhooks WHERE id = \(bind: id)").run()
    }

    static func delete(owner: String, on db: any Database) async throws {
        try await delete(deliveries: "owner = \(bind: owner) OR event_owner = \(bind: owner)", on: db)
        try await db.sql.raw("DELETE FROM webhooks WHERE owner = \(bind: owner)").run()
    }

    private static func delete(deliveries condition: SQLQueryString, on db: any Database) async throws {
        let sql = db.sql
        try await sql.raw("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE \(condition))").run()
        try await sql.raw("DELETE FROM webhook_deliveries WHERE \(condition)").run()
    }
}
