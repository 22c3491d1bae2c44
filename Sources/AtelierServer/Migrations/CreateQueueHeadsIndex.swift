import Fluent
import SQLKit

/// Lets a claim find each owner's oldest due job with an index seek instead of sorting the whole backlog
/// (`JobQueue.claim`): 5,000 queued jobs made claiming 3–4× slower than 1,000 with the old statement.
struct CreateQueueHeadsIndex: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase)
            .raw("CREATE INDEX jobs_queue_heads ON jobs (status, owner, run_after, created_at)").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX jobs_queue_heads").run()
    }
}
