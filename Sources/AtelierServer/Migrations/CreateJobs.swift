import Fluent
import SQLKit

struct CreateJobs: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(JobRecord.schema)
            .id()
            .field("owner", .string, .required)
            .field("kind", .string, .required)
            .field("status", .string, .required)
            .field("prompt", .string, .required)
            .field("model", .string, .required)
            .field("params", .json, .required)
            .field("options", .json)
            .field("result", .json)
            .field("usage", .json)
            .field("cost_nano", .int64)
            .field("estimated_cost_nano", .int64)
            .field("error_code", .string)
            .field("error_message", .string)
            .field("error_retryable", .bool)
            .field("attempts", .int, .required)
            .field("max_attempts", .int, .required)
            .field("run_after", .double, .required)
            .field("lease_owner", .string)
            .field("lease_expires", .double)
            .field("cancel_requested", .bool, .required)
            .field("seq", .int, .required)
            .field("upstream_request_id", .string)
            .field("favorite", .bool, .required)
            .field("idempotency_key", .string)
            .field("request_hash", .string)
            .field("created_at", .double, .required)
            .field("started_at", .double)
            .field("finished_at", .double)
            .unique(on: "owner", "idempotency_key")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX jobs_claim ON jobs (status, run_after)").run()
        try await sql.raw("CREATE INDEX jobs_owner_created ON jobs (owner, created_at)").run()
        try await sql.raw("CREATE INDEX jobs_lease ON jobs (status, lease_expires)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(JobRecord.schema).delete()
    }
}

struct CreateImages: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ImageRecord.schema)
            .id()
            .field("job_id", .uuid, .required, .references(JobRecord.schema, "id", onDelete: .cascade))
            .field("owner", .string, .required)
            .field("role", .string, .required)
            .field("index", .int, .required)
            .field("blob_key", .string, .required)
            .field("thumbnail_key", .string)
            .field("format", .string, .required)
            .field("width", .int, .required)
            .field("height", .int, .required)
            .field("bytes", .int, .required)
            .field("created_at", .double, .required)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX images_job ON images (job_id, role, \"index\")").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ImageRecord.schema).delete()
    }
}

struct CreateJobEvents: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(JobEventRecord.schema)
            .id()
            .field("job_id", .uuid, .required)
            .field("owner", .string, .required)
            .field("seq", .int, .required)
            .field("type", .string, .required)
            .field("payload", .string, .required)
            .field("created_at", .double, .required)
            .unique(on: "job_id", "seq")
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX job_events_owner ON job_events (owner, created_at)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(JobEventRecord.schema).delete()
    }
}
