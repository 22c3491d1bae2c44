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

    @Test func aWriteOutsideATransactionWaitsItsTurnAndAReadDoesNot() async throws {
        try await withRaceApp { app, plain in
            let job = try await Self.finishedJob(app)
            let queue = try #require(app.db as? ImmediateSQLiteDatabase).queue
            let (held, holding) = AsyncStream.makeStream(of: Void.self)
            let (released, release) = AsyncStream.makeStream(of: Void.self)
            let transaction = Task {
                try await app.db.transaction { db in
                    try await db.sql.raw("UPDATE jobs SET seq = 10 WHERE id = \(bind: job)").run()
                    holding.yield()
                    for await _ in released { break }
                }
            }
            for await _ in held { break }
            let write = Task { try await app.db.sql.raw("UPDATE jobs SET seq = seq + 1 WHERE id = \(bind: job)").run() }
            let update = Task { try await JobRecord.query(on: app.db).filter(\.$id == job).set(\.$seq, to: 100).update() }
            let deadline = ContinuousClock.now + .seconds(60)
            while queue.waiting < 2 && ContinuousClock.now < deadline { await Task.yield() }
            #expect(queue.waiting == 2, "both writes wait for the transaction's turn…")
            // (Read on a pool of its own: the app's pool has one connection per event loop, one of them held here.)
            let read = try await JobRecord.find(job, on: plain)?.seq
            #expect(read == 1, "…while a read runs beside it and sees the last commit")
            release.yield()
            try await transaction.value
            try await write.value
            try await update.value
            #expect([101, 100].contains(try await Self.seq(app, job)), "each write ran after the transaction, whole")
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
