import Fluent
import SQLKit

/// Spend counters (per owner per day and month, and `*` for everyone per day), the per-job spend ledger,
/// fixed-window rate counters, runtime settings and model registry overrides.
struct CreateGovernance: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("spend_periods")
            .field("subject", .string, .required)
            .field("period", .string, .required)
            .field("amount_nano", .int64, .required)
            .unique(on: "subject", "period")
            .create()
        try await database.schema("spend_ledger")
            .field("job_id", .uuid, .required)
            .field("owner", .string, .required)
            .field("day", .string, .required)
            .field("month", .string, .required)
            .field("reserved_nano", .int64, .required)
            .field("settled_nano", .int64)
            .field("state", .string, .required)
            .field("updated_at", .double, .required)
            .unique(on: "job_id")
            .create()
        try await database.schema("rate_counters")
            .field("subject", .string, .required)
            .field("window_start", .int64, .required)
            .field("hits", .int64, .required)
            .unique(on: "subject", "window_start")
            .create()
        try await database.schema("app_settings")
            .field("name", .string, .required)
            .field("value", .string, .required)
            .unique(on: "name")
            .create()
        try await database.schema(ModelOverrideRecord.schema)
            .field("model_id", .string, .identifier(auto: false))
            .field("enabled", .bool)
            .field("prices", .json)
            .field("updated_at", .double, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX spend_ledger_owner ON spend_ledger (owner, day)").run()
        try await sql.raw("CREATE INDEX spend_periods_period ON spend_periods (period)").run()
        try await sql.raw("CREATE INDEX rate_counters_window ON rate_counters (window_start)").run()
    }

    func revert(on database: any Database) async throws {
        for table in [ModelOverrideRecord.schema, "app_settings", "rate_counters", "spend_ledger", "spend_periods"] {
            try await database.schema(table).delete()
        }
    }
}
