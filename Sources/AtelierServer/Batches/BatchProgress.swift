import Fluent
import Foundation
import SQLKit

/// A batch's jobs counted by status, and what the finished ones cost (exact costs; earlier failed attempts
/// that reached the upstream are in the spend ledger, not here).
struct BatchProgress: Sendable {
    var counts = BatchDTO.Counts()
    var costNano: Int64 = 0

    /// No job queued or running.
    var isSettled: Bool { counts.queued == 0 && counts.running == 0 }

    /// The progress of each batch in `ids`, in one grouped query.
    static func load(_ ids: [UUID], on database: any Database) async throws -> [UUID: BatchProgress] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await database.sql.raw(
            """
            SELECT batch_id, status, COUNT(*) AS n, CAST(COALESCE(SUM(cost_nano), 0) AS BIGINT) AS cost FROM jobs
            WHERE batch_id IN (\(binds: ids)) GROUP BY batch_id, status
            """
        ).all()
        var progress: [UUID: BatchProgress] = [:]
        for row in rows {
            let id = try row.decode(column: "batch_id", as: UUID.self)
            let n = try row.decode(column: "n", as: Int.self)
            var entry = progress[id] ?? BatchProgress()
            switch try row.decode(column: "status", as: String.self) {
            case "queued": entry.counts.queued += n
            case "running": entry.counts.running += n
            case "succeeded": entry.counts.succeeded += n
            case "failed": entry.counts.failed += n
            case "canceled": entry.counts.canceled += n
            default: break
            }
            entry.costNano += try row.decode(column: "cost", as: Int64.self)
            progress[id] = entry
        }
        return progress
    }

    /// A live batch whose jobs have all ended is `completed` (stored, so lists can filter on it later); one whose
    /// jobs were retried is `running` again.
    static func refresh(_ batch: BatchRecord, with progress: BatchProgress, on database: any Database, now: Double) async throws {
        guard try batch.batchMode == .live else { return }
        let status: BatchStatus? =
            switch try batch.batchStatus {
            case .running where progress.isSettled: .completed
            case .completed where !progress.isSettled, .canceled where !progress.isSettled && progress.counts.queued > 0: .running
            default: nil
            }
        guard let status else { return }
        batch.status = status.rawValue
        batch.updatedAt = now
        try await batch.update(on: database)
    }
}
