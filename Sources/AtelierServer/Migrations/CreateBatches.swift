import Fluent
import SQLKit

/// Batches (issue 15): a named set of jobs made from a prompt template and rows. Each job of a batch links back
/// to it with its position (`batch_index`, unique in the batch), the data row it came from (`batch_row`, 1-based)
/// and that row's variables (`batch_vars`), so a compare grid can place every job. The `upstream_*` and poll
/// columns belong to mode `openai_batch` (an OpenAI Batch API batch and its files).
struct CreateBatches: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(BatchRecord.schema)
            .id()
            .field("owner", .string, .required)
            .field("name", .string, .required)
            .field("mode", .string, .required)
            .field("status", .string, .required)
            .field("prompt", .string, .required)
            .field("options", .json, .required)
            .field("total", .int, .required)
            .field("estimated_cost_nano", .int64, .required)
            .field("upstream_batch_id", .string)
            .field("upstream_input_file_id", .string)
            .field("upstream_output_file_id", .string)
            .field("upstream_error_file_id", .string)
            .field("upstream_status", .string)
            .field("poll_after", .double)
            .field("poll_attempts", .int, .required)
            .field("created_at", .double, .required)
            .field("updated_at", .double, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX batches_owner_created ON batches (owner, created_at)").run()
        try await sql.raw("CREATE INDEX batches_poll ON batches (mode, status, poll_after)").run()
        // One column per ALTER: SQLite adds one at a time.
        try await database.schema(JobRecord.schema).field("batch_id", .uuid).update()
        try await database.schema(JobRecord.schema).field("batch_index", .int).update()
        try await database.schema(JobRecord.schema).field("batch_row", .int).update()
        try await database.schema(JobRecord.schema).field("batch_vars", .json).update()
        try await sql.raw("CREATE UNIQUE INDEX jobs_batch ON jobs (batch_id, batch_index)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX jobs_batch").run()
        for column in ["batch_id", "batch_index", "batch_row", "batch_vars"] {
            try await sql.raw("ALTER TABLE jobs DROP COLUMN \(ident: column)").run()
        }
        try await database.schema(BatchRecord.schema).delete()
    }
}
