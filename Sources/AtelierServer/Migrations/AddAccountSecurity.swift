import Fluent
import SQLKit

/// Sign-up policy and credentials: `users.status` (active, pending, suspended; existing accounts stay active),
/// `api_keys.scopes` (existing keys of members get generate+read; of admins every scope, so a running metrics scrape
/// keeps working), single-use `invites`, and `login_throttle` (failed
/// sign-ins per subject with the time the next attempt is allowed).
struct AddAccountSecurity: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active'").run()
        try await sql.raw("ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'generate,read'").run()
        try await sql.raw(
            """
            UPDATE api_keys SET scopes = 'admin,generate,metrics,read' WHERE user_id IN (SELECT id FROM users WHERE role = 'admin')
            """
        ).run()
        try await sql.raw("DELETE FROM app_settings WHERE name = 'first_admin'").run()
        try await database.schema(InviteRecord.schema)
            .id()
            .field("token_hash", .string, .required)
            .field("created_by", .uuid)
            .field("created_at", .double, .required)
            .field("expires_at", .double, .required)
            .field("used_at", .double)
            .field("used_by", .uuid)
            .unique(on: "token_hash")
            .create()
        try await database.schema("login_throttle")
            .field("subject", .string, .required)
            .field("failures", .int64, .required)
            .field("blocked_until", .double, .required)
            .field("updated_at", .double, .required)
            .unique(on: "subject")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("login_throttle").delete()
        try await database.schema(InviteRecord.schema).delete()
    }
}
