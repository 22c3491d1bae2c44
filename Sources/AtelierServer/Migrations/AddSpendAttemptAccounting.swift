import Fluent
import SQLKit

/// Per-attempt spend accounting: `spend_ledger.charged_nano` holds what finished attempts of a job already cost
/// (an attempt that reached the upstream and then failed or was canceled); the caps a reservation was made
/// against are kept on its row so settling can tell when the exact cost passed one; `spend_overruns` records
/// each time it did (the money is spent; the admin page shows a banner).
struct AddSpendAttemptAccounting: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE spend_ledger ADD COLUMN charged_nano BIGINT NOT NULL DEFAULT 0").run()
        for column in ["cap_day_nano", "cap_month_nano", "cap_global_nano"] {
            try await sql.raw("ALTER TABLE spend_ledger ADD COLUMN \(unsafeRaw: column) BIGINT").run()
        }
        try await database.schema("spend_overruns")
            .id()
            .field("job_id", .uuid, .required)
            .field("subject", .string, .required)
            .field("period", .string, .required)
            .field("cap_nano", .int64, .required)
            .field("amount_nano", .int64, .required)
            .field("created_at", .double, .required)
            .create()
        try await sql.raw("CREATE INDEX spend_overruns_created ON spend_overruns (created_at)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("spend_overruns").delete()
    }
}
