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
