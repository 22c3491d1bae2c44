import Fluent
import SQLKit

/// Webhook endpoints, their delivery outbox (one row per event and endpoint, written in the transaction that
/// records the event) and the log of each delivery's attempts.
struct CreateWebhooks: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(WebhookRecord.schema)
            .id()
            .field("owner", .string, .required)
            .field("url", .string, .required)
            .field("events", .string, .required)
            .field("secret", .string, .required)
            .field("created_at", .double, .required)
            .create()
        try await database.schema(WebhookDeliveryRecord.schema)
            .id()
            .field("webhook_id", .uuid, .required)
            .field("owner", .string, .required)
            .field("event_owner", .string)
            .field("event_type", .string, .required)
            .field("payload", .string, .required)
            .field("dedupe_key", .string)
            .field("status", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .double, .required)
            .field("window_start", .double, .required)
            .field("lease_owner", .string)
            .field("last_status", .int)
            .field("last_error", .string)
            .field("created_at", .double, .required)
            .field("finished_at", .double)
            .create()
        try await database.schema(WebhookAttemptRecord.schema)
            .id()
            .field("delivery_id", .uuid, .required)
            .field("attempt", .int, .required)
            .field("at", .double, .required)
            .field("duration_ms", .int, .required)
            .field("status_code", .int)
            .field("error", .string)
            .unique(on: "delivery_id", "attempt")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX webhooks_owner ON webhooks (owner)").run()
        try await sql.raw("CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)").run()
        try await sql.raw("CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at)").run()
        try await sql.raw("CREATE INDEX webhook_deliveries_event_owner ON webhook_deliveries (event_owner)").run()
        try await sql.raw("CREATE UNIQUE INDEX webhook_deliveries_dedupe ON webhook_deliveries (webhook_id, dedupe_key)").run()
    }

    func revert(on database: any Database) async throws {
        for table in [WebhookAttemptRecord.schema, WebhookDeliveryRecord.schema, WebhookRecord.schema] {
            try await database.schema(table).delete()
        }
    }
}
