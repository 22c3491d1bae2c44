@testable import AtelierServer
import AtelierTesting
import FluentPostgresDriver
import Foundation
import SQLKit
import Testing
import Vapor

/// What keeps a burst of one caller's admissions on PostgreSQL from answering 503: the function takes the rate
/// counters in subject order (`OrderAdmitJobRateHits`), and a deadlock's or serialization failure's victim is run
/// again (`PostgresAdmission.retryingDeadlocks`), which is safe because the one statement wrote nothing. The
/// failures are raised by PostgreSQL itself with the SQLSTATE a real deadlock carries. Needs TEST_DATABASE_URL.
@Suite struct PostgresAdmissionRetryTests {
    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL"))
    func aDeadlockVictimRunsAgainAndOtherErrorsDoNot() async throws {
        try await withTestApp { app in
            let sql = app.db.sql
            let tries = Tries()
            // setup: a statement that fails with `state` its first `failures` times, then answers 42
            func statement(failing failures: Int, with state: String) async throws -> Int {
                guard await tries.next() > failures else {
                    try await sql.raw(SQLQueryString("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '\(unsafeRaw: state)'; END $$")).run()
                    return -1
                }
                return try #require(try await sql.raw("SELECT 42 AS n").first()?.decode(column: "n", as: Int.self))
            }
            // MUT + validate: two deadlocks then an answer; a serialization failure then an answer
            let afterDeadlocks = try await PostgresAdmission.retryingDeadlocks { try await statement(failing: 2, with: "40P01") }
            #expect(afterDeadlocks == 42)
            #expect(await tries.reset() == 3)
            let afterSerialization = try await PostgresAdmission.retryingDeadlocks { try await statement(failing: 1, with: "40001") }
            #expect(afterSerialization == 42)
            #expect(await tries.reset() == 2)
            // three deadlocks in a row: the third goes on to the caller
            await #expect(throws: PSQLError.self) {
                try await PostgresAdmission.retryingDeadlocks { try await statement(failing: 3, with: "40P01") }
            }
            #expect(await tries.reset() == 3)
            // any other failure (a unique violation) is not run again
            await #expect(throws: PSQLError.self) {
                try await PostgresAdmission.retryingDeadlocks { try await statement(failing: 1, with: "23505") }
            }
            #expect(await tries.reset() == 1)
        }
    }

    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL"))
    func theInstalledFunctionTakesTheRateCountersInSubjectOrder() async throws {
        #expect(OrderAdmitJobRateHits.function.contains(OrderAdmitJobRateHits.ordered))
        #expect(!OrderAdmitJobRateHits.function.contains(OrderAdmitJobRateHits.unordered))
        try await withTestApp { app in
            let definition = try #require(
                try await app.db.sql.raw(
                    """
                    SELECT pg_get_functiondef(p.oid) AS d FROM pg_proc p
                    WHERE p.proname = 'atelier_admit_job' AND p.pronamespace = to_regnamespace(current_schema())
                    """
                ).first()?.decode(column: "d", as: String.self))
            #expect(definition.contains("ORDER BY d.s"))
            #expect(!definition.contains("SELECT DISTINCT s, p_rate_window"))
        }
    }

    actor Tries {
        private var count = 0
        func next() -> Int {
            count += 1
            return count
        }
        func reset() -> Int {
            defer { count = 0 }
            return count
        }
    }
}
