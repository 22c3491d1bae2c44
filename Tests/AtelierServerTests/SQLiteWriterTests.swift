@testable import AtelierServer
import AtelierTesting
import Fluent
import FluentSQLiteDriver
import Foundation
import SQLKit
import Testing
import Vapor

/// `SQLiteWriter`: every write transaction of an SQLite app runs on one kept connection, and a group commit's code
/// and statements all run on that connection's one SQLite thread (no thread hop per statement).
/// On SQLite in every lane (the PostgreSQL lane included).
@Suite struct SQLiteWriterTests {
    @Test func aGroupCommitsCodeAndStatementsStayOnTheWritersThread() async throws {
        try await withTestApp(try .testing(database: .sqliteMemory)) { app in
            let writer = try #require(app.db as? ImmediateSQLiteDatabase).writer
            let sqliteThread = try await writer.thread.pool.runIfActive { pthread_self() }
            let group = GroupCommit<[pthread_t]>()
            let threads = try await group.commit(on: app.db) { db in
                var threads = [pthread_self()]
                for statement in ["SELECT 1", "SELECT COUNT(*) FROM jobs", "UPDATE jobs SET seq = seq WHERE 0"] {
                    try await db.sql.raw(SQLQueryString(statement)).run()
                    threads.append(pthread_self())
                }
                return threads
            }
            #expect(threads.count == 4)
            #expect(threads.allSatisfy { pthread_equal($0, sqliteThread) != 0 }, "before and after each statement")
        }
    }

    @Test func everyTransactionAndRawWriteUsesTheWritersConnectionAndReadsDoNot() async throws {
        try await withTestApp(try .testing(database: .sqliteMemory)) { app in
            // A TEMP table exists only on the connection that made it; made by a raw write outside a transaction.
            try await app.db.sql.raw("CREATE TEMP TABLE writer_mark (x)").run()
            let seen = try await app.db.writeTransaction { db in
                try await db.sql.raw("SELECT COUNT(*) AS n FROM temp.writer_mark").first()?.decode(column: "n", as: Int.self)
            }
            #expect(seen == 0, "the transaction ran on the raw write's connection")
            let viaFluent = try await app.db.transaction { db in
                try await db.sql.raw("SELECT COUNT(*) AS n FROM temp.writer_mark").first()?.decode(column: "n", as: Int.self)
            }
            #expect(viaFluent == 0, "Fluent's transaction API goes to the same connection")
            await #expect(throws: (any Error).self, "a read outside a transaction uses the app's pool") {
                try await app.db.sql.raw("SELECT COUNT(*) FROM temp.writer_mark").run()
            }
        }
    }

    @Test func aFailedTransactionLeavesTheConnectionReadyForTheNext() async throws {
        struct Refused: Error {}
        try await withTestApp(try .testing(database: .sqliteMemory)) { app in
            try await app.db.writeTransaction { db in try await db.sql.raw("CREATE TABLE writer_rows (x)").run() }
            await #expect(throws: Refused.self) {
                try await app.db.writeTransaction { db in
                    try await db.sql.raw("INSERT INTO writer_rows VALUES (1)").run()
                    throw Refused()
                }
            }
            try await app.db.writeTransaction { db in try await db.sql.raw("INSERT INTO writer_rows VALUES (2)").run() }
            let rows = try await app.db.sql.raw("SELECT x FROM writer_rows").all().map { try $0.decode(column: "x", as: Int.self) }
            #expect(rows == [2], "the refused row rolled back, the next transaction began and committed")
        }
    }

    /// The durability the docs promise (docs/ARCHITECTURE.md, "Group commit of new jobs"): on a served SQLite file
    /// the writer commits in WAL mode with `synchronous=FULL` (2), so every `COMMIT` fsyncs the WAL and a job whose
    /// 202 was sent survives a power cut, not only a process crash (`NORMAL` would leave the last commits to the OS).
    @Test func theWritersCommitsAreFsyncedInWALModeWithSynchronousFull() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("durable-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await withTestApp(try .testing(database: .sqliteFile(path))) { app in
            let (journal, synchronous) = try await app.db.writeTransaction { db in
                let journal = try await db.sql.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
                let synchronous = try await db.sql.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self)
                return (journal, synchronous)
            }
            #expect(journal?.lowercased() == "wal")
            #expect(synchronous == 2)
        }
    }

    /// A write that comes after the shutdown (a request ended while the app stopped) is refused, instead of checking
    /// a connection out of the closed pool and leaking its release promise (a crash in debug builds).
    @Test func aWriterThatHasShutDownRefusesNewWork() async throws {
        try await withTestApp(try .testing(database: .sqliteMemory)) { app in
            let writer = SQLiteWriter(
                configuration: DatabaseConfigurationFactory.sqlite(.memory).make(), eventLoopGroup: app.eventLoopGroup)
            let first = try await writer.connection(logger: app.logger)
            try await first.sql.raw("SELECT 1").run()
            await writer.shutdownAsync()
            await #expect(throws: SQLiteWriterClosed.self) { _ = try await writer.connection(logger: app.logger) }
        }
    }
}
