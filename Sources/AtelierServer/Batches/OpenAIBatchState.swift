import Fluent
import Foundation
import OpenAIImages
import SQLKit

/// The durable state of an `openai_batch` batch's runner, in its `batches` row: the uploaded input file, the
/// OpenAI batch and its files, its last seen status, and when to look again (`poll_after`, NULL once nothing is
/// left to do). Each write is one targeted UPDATE, so a concurrent cancel (`status = 'canceled'`) is never
/// overwritten.
struct OpenAIBatchState: Sendable {
    let database: any Database

    /// Takes the batch whose `poll_after` is due, pushing it `lease` seconds ahead in the same statement: another
    /// instance sees it again only if this one dies (or takes longer than the lease). Nil when none is due.
    func claimDue(now: Double, lease: Double) async throws -> BatchRecord? {
        try await database.sql.raw(
            """
            UPDATE batches SET poll_after = \(bind: now + lease)
            WHERE id = (SELECT id FROM batches WHERE mode = 'openai_batch' AND poll_after <= \(bind: now)
                ORDER BY poll_after LIMIT 1)
                AND poll_after <= \(bind: now)
            RETURNING *
            """
        ).first()?.decode(fluentModel: BatchRecord.self)
    }

    func recordInputFile(_ batchID: UUID, fileID: String, now: Double) async throws {
        try await database.sql.raw(
            """
            UPDATE batches SET upstream_input_file_id = \(bind: fileID), updated_at = \(bind: now) WHERE id = \(bind: batchID)
            """
        ).run()
    }

    /// The OpenAI batch exists: a queued batch is `running` from now on.
    func recordCreated(_ batchID: UUID, upstream: OpenAIBatch, pollAfter: Double, now: Double) async throws {
        try await database.sql.raw(
            """
            UPDATE batches SET upstream_batch_id = \(bind: upstream.id), upstream_status = \(bind: upstream.status.rawValue),
                poll_after = \(bind: pollAfter), poll_attempts = 0, updated_at = \(bind: now),
                status = CASE WHEN status = 'queued' THEN 'running' ELSE status END
            WHERE id = \(bind: batchID)
            """
        ).run()
    }

    /// What one poll saw, and when to poll next (or how long the lease runs while the files are read).
    func recordPoll(_ batchID: UUID, upstream: OpenAIBatch, pollAfter: Double, attempts: Int, now: Double) async throws {
        try await database.sql.raw(
            """
            UPDATE batches SET upstream_status = \(bind: upstream.status.rawValue),
                upstream_output_file_id = \(bind: upstream.outputFileID), upstream_error_file_id = \(bind: upstream.errorFileID),
                poll_after = \(bind: pollAfter), poll_attempts = \(bind: attempts), updated_at = \(bind: now)
            WHERE id = \(bind: batchID)
            """
        ).run()
    }

    /// A step failed on the way (network, upstream 5xx): look again after `pollAfter`.
    func retryLater(_ batchID: UUID, pollAfter: Double, attempts: Int) async throws {
        try await database.sql.raw(
            """
            UPDATE batches SET poll_after = \(bind: pollAfter), poll_attempts = \(bind: attempts) WHERE id = \(bind: batchID)
            """
        ).run()
    }

    /// Nothing is left to do: the batch ends `status` (a canceled batch stays canceled).
    func finish(_ batchID: UUID, status: BatchStatus, now: Double) async throws {
        try await database.sql.raw(
            """
            UPDATE batches SET poll_after = NULL, updated_at = \(bind: now),
                status = CASE WHEN status = 'canceled' THEN status ELSE \(bind: status.rawValue) END
            WHERE id = \(bind: batchID)
            """
        ).run()
    }

    /// Asks the runner to look at the batch now (after a cancel).
    func pollSoon(_ batchID: UUID, now: Double) async throws {
        try await database.sql.raw(
            """
            UPDATE batches SET poll_after = \(bind: now) WHERE id = \(bind: batchID) AND poll_after IS NOT NULL
            """
        ).run()
    }
}
