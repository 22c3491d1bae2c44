import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import FluentSQL
import Foundation
import Testing

/// `JobRecord(row:)` (the claim's and the transitions' row decoding without Fluent's reflection) reads every
/// column and leaves the model as `decode(fluentModel:)` does, on SQLite and PostgreSQL.
@Suite struct JobRecordRowTests {
    @Test func theListedPropertiesAreEveryColumnOfTheModel() {
        #expect(JobRecord().storedProperties.flatMap(\.keys) == JobRecord.keys)
    }

    /// A tripwire for the columns of `jobs`: new job rows are written by hand in four places, which Fluent does not
    /// check (`JobLifecycle.insertNew` for one job on SQLite, `atelier_admit_job` in `CreateAdmitJobFunction` on
    /// PostgreSQL, and the two batch INSERTs in `JobLifecycle`). A column added to `JobRecord` and missing there
    /// would be silently left at its default for new jobs; this fails first and names the places to update.
    @Test func theJobColumnsAreTheOnesTheHandWrittenInsertsKnow() {
        let known: [String] = [
            "id", "owner", "kind", "status", "prompt", "model", "params", "options", "result", "usage", "cost_nano",
            "estimated_cost_nano", "error_code", "error_message", "error_retryable", "attempts", "max_attempts",
            "run_after", "lease_owner", "lease_expires", "cancel_requested", "seq", "upstream_request_id", "favorite",
            "idempotency_key", "request_hash", "created_at", "started_at", "finished_at", "upstream_key",
            "rate_limit_until", "rate_limited_since", "batch_id", "batch_index", "batch_row", "batch_vars",
            "compat_caller",
        ]
        #expect(
            JobRecord.keys.map(\.description) == known,
            "jobs has a new or renamed column: add it to JobLifecycle.insertNew, atelier_admit_job (a new migration), the batch INSERTs in JobLifecycle, JobRecord(row:), then here"
        )
    }

    @Test func aRowReadsAsFluentReadsIt() async throws {
        try await withTestApp { app in
            // PostgreSQL's text cannot hold NUL; batch rows need their batch.
            let jobs = JobJSONTests.jobs().filter { $0.batchID == nil && !$0.prompt.contains("\u{0}") }
            for (index, job) in jobs.enumerated() {
                job.leaseOwner = "worker-1"
                job.leaseExpires = 99.5
                job.idempotencyKey = "key-\(index)"
                job.requestHash = "hash"
                job.rateLimitedSince = 8
                try await job.create(on: app.db)
            }
            let rows = try await app.db.sql.raw("SELECT * FROM jobs ORDER BY created_at, owner").all()
            #expect(rows.count == jobs.count)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            for row in rows {
                let fluent = try row.decode(fluentModel: JobRecord.self)
                let decoded = try JobRecord(row: row)
                #expect(decoded.$id.exists && fluent.$id.exists)
                #expect(decoded.hasChanges == fluent.hasChanges)
                #expect(
                    String(decoding: try encoder.encode(decoded), as: UTF8.self)
                        == String(decoding: try encoder.encode(fluent), as: UTF8.self))
                #expect(decoded.$images.fromId == fluent.$images.fromId)
            }
        }
    }
}
