import Fluent
import SQLKit

/// `jobs.compat_caller`: the job was created by an OpenAI-compatible route, whose only consumer is the caller's open
/// HTTP request. When its worker dies, lease expiry ends it `interrupted` instead of running it again for nobody.
struct AddJobsCompatCaller: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw(
            "ALTER TABLE jobs ADD COLUMN compat_caller BOOLEAN NOT NULL DEFAULT FALSE"
        ).run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("ALTER TABLE jobs DROP COLUMN compat_caller").run()
    }
}
