import Fluent
import Foundation
import SQLKit

/// Gives back reservations whose job ended without success or is gone, whichever path ended it
/// (worker failure, cancel while queued, lease recovery, deletion). Idempotent: only `reserved` rows move.
struct SpendReconciler: Sendable {
    let database: any Database
    let clock: AtelierClock

    @discardableResult
    func releaseEnded() async throws -> Int {
        let rows = try await database.sql.raw(
            """
            SELECT l.job_id FROM spend_ledger l LEFT JOIN jobs j ON j.id = l.job_id
            WHERE l.state = 'reserved' AND (j.id IS NULL OR j.status IN ('failed', 'canceled'))
            LIMIT 500
            """
        ).all()
        for row in rows {
            let jobID = try row.decode(column: "job_id", as: UUID.self)
            try await database.transaction { db in
                try await SpendLedger(database: db).release(jobID: jobID, now: clock.now())
            }
        }
        return rows.count
    }
}
