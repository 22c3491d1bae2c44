@testable import AtelierServer
import AtelierTesting
import Fluent
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
}
