import Fluent
import SQLKit

/// Upstream keys and their rate-limit lanes, shared by every worker and instance (`UpstreamGate`), and the
/// job columns that say which key ran a job and how long it has waited for the rate limit.
struct CreateUpstreamLanes: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw(
            """
            CREATE TABLE upstream_keys (
                label TEXT PRIMARY KEY, status TEXT NOT NULL, message TEXT, fingerprint TEXT,
                changed_at DOUBLE PRECISION NOT NULL)
            """
        ).run()
        try await sql.raw(
            """
            CREATE TABLE upstream_lanes (
                key_label TEXT NOT NULL, model TEXT NOT NULL,
                paused_until DOUBLE PRECISION NOT NULL, pause_reason TEXT,
                image_tokens DOUBLE PRECISION NOT NULL, request_tokens DOUBLE PRECISION NOT NULL,
                refilled_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (key_label, model))
            """
        ).run()
        try await sql.raw(
            """
            CREATE TABLE upstream_limits (
                key_label TEXT NOT NULL, model TEXT NOT NULL, images_per_window INTEGER, requests_per_window INTEGER,
                PRIMARY KEY (key_label, model))
            """
        ).run()
        try await sql.raw("ALTER TABLE jobs ADD COLUMN upstream_key TEXT").run()
        try await sql.raw("ALTER TABLE jobs ADD COLUMN rate_limit_until DOUBLE PRECISION").run()
        try await sql.raw("ALTER TABLE jobs ADD COLUMN rate_limited_since DOUBLE PRECISION").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for column in ["upstream_key", "rate_limit_until", "rate_limited_since"] {
            try await sql.raw("ALTER TABLE jobs DROP COLUMN \(ident: column)").run()
        }
        try await sql.raw("DROP TABLE upstream_limits").run()
        try await sql.raw("DROP TABLE upstream_lanes").run()
        try await sql.raw("DROP TABLE upstream_keys").run()
    }
}
