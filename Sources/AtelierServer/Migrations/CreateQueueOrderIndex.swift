import Fluent
import SQLKit

/// Replaces `jobs_queue_heads` with an index in the claim's order within one owner (`JobQueue.order`): jobs outside
/// a batch first, then by due time and age, so a user's single job no longer waits behind their own batch and a
/// claim still finds each owner's next jobs with an index seek instead of sorting that owner's backlog.
struct CreateQueueOrderIndex: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.sql.raw(
            "CREATE INDEX jobs_queue_order ON jobs (status, owner, (batch_id IS NOT NULL), run_after, created_at)"
        ).run()
        try await database.sql.raw("DROP INDEX jobs_queue_heads").run()
    }

    func revert(on database: any Database) async throws {
        try await database.sql.raw("CREATE INDEX jobs_queue_heads ON jobs (status, owner, run_after, created_at)").run()
        try await database.sql.raw("DROP INDEX jobs_queue_order").run()
    }
}
