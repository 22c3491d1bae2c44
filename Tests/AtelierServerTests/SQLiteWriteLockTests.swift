import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import FluentSQLiteDriver
import Foundation
import SQLKit
import Testing
import Vapor

/// SQLite: a transaction that reads and then writes. Begun DEFERRED (Fluent's default), a write committed by
/// another connection between its read and its write makes it fail at once with "database is locked"; the
/// app's transactions begin IMMEDIATE, so they hold the write lock from their first statement and no other
/// writer can commit in between. Both orders are forced step by step, with no timing.
@Suite struct SQLiteWriteLockTests {
    @Test func aDeferredTransactionFailsWhenAWriterCommitsBetweenItsReadAndItsWrite() async throws {
        try await withRaceApp { app, plain in
            let job = try await Self.finishedJob(app)
            await #expect(throws: (any Error).self) {
                try await plain.transaction { db in
                    _ = try await db.sql.raw("SELECT seq FROM jobs WHERE id = \(bind: job)").first()
                    try await app.db.sql.raw("UPDATE jobs SET seq = seq + 1 WHERE id = \(bind: job)").run()
                    try await db.sql.raw("UPDATE jobs SET seq = seq + 10 WHERE id = \(bind: job)").run()
                }
            }
            #expect(try await Self.seq(app, job) == 2, "only the other writer's commit stands")
        }
    }

    @Test func theAppsTransactionsHoldTheWriteLockFromTheirFirstRead() async throws {
        try await withRaceApp { app, plain in
            let job = try await Self.finishedJob(app)
            try await app.db.transaction { db in
                _ = try await db.sql.raw("SELECT seq FROM jobs WHERE id = \(bind: job)").first()
                // Another connection that does not wait for locks cannot write now: the lock is already held.
                await #expect(throws: (any Error).self) {
                    try await plain.withConnection { other in
                        try await other.sql.raw("PRAGMA busy_timeout = 0").run()
                        try await other.sql.raw("UPDATE jobs SET seq = seq + 1 WHERE id = \(bind: job)").run()
                    }
                }
                try await db.sql.raw("UPDATE jobs SET seq = seq + 10 WHERE id = \(bind: job)").run()
            }
            #expect(try await Self.seq(app, job) == 11)
            #expect(try await JobLifecycle.delete(job, on: app.db) != nil, "a transition on the same database")
            #expect(try await JobRecord.find(job, on: app.db) == nil)
        }
    }

    /// An app on an SQLite file, and a second database on the same file through Fluent's own driver (DEFERRED).
    private func withRaceApp(_ body: (Application, any Database) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("race-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await withTestApp(try .testing(database: .sqliteFile(path))) { app in
            let plainID = DatabaseID(string: "plain-\(UUID().uuidString)")
            app.databases.use(.sqlite(.file(path)), as: plainID, isDefault: false)
            try await body(app, try #require(app.db(plainID) as (any Database)?))
        }
    }

    private static func finishedJob(_ app: Application) async throws -> UUID {
        let params = try await app.atelier.validator(app.db).validate(ImageRequestInput(prompt: "a lighthouse"), for: .generations)
        let job = JobRecord(owner: "local", kind: .generate, params: params, maxAttempts: 1, now: 1)
        job.status = JobStatus.succeeded.rawValue
        job.seq = 1
        try await job.create(on: app.db)
        return try job.requireID()
    }

    private static func seq(_ app: Application, _ job: UUID) async throws -> Int? {
        try await JobRecord.find(job, on: app.db)?.seq
    }
}
