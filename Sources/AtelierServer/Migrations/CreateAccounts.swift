import Fluent
import SQLKit

/// users, api_keys and sessions.
struct CreateAccounts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UserRecord.schema)
            .id()
            .field("email", .string, .required)
            .field("password_hash", .string, .required)
            .field("role", .string, .required)
            .field("verified", .bool, .required)
            .field("consent_at", .double)
            .field("daily_cap_nano", .int64)
            .field("monthly_cap_nano", .int64)
            .field("requests_per_minute", .int)
            .field("images_per_minute", .int)
            .field("created_at", .double, .required)
            .unique(on: "email")
            .create()
        try await database.schema(APIKeyRecord.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserRecord.schema, "id", onDelete: .cascade))
            .field("name", .string, .required)
            .field("prefix", .string, .required)
            .field("key_hash", .string, .required)
            .field("created_at", .double, .required)
            .field("last_used_at", .double)
            .field("revoked_at", .double)
            .unique(on: "key_hash")
            .create()
        try await database.schema(SessionRecord.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserRecord.schema, "id", onDelete: .cascade))
            .field("token_hash", .string, .required)
            .field("csrf_token", .string, .required)
            .field("created_at", .double, .required)
            .field("expires_at", .double, .required)
            .unique(on: "token_hash")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX api_keys_user ON api_keys (user_id)").run()
        try await sql.raw("CREATE INDEX sessions_user ON sessions (user_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SessionRecord.schema).delete()
        try await database.schema(APIKeyRecord.schema).delete()
        try await database.schema(UserRecord.schema).delete()
    }
}
