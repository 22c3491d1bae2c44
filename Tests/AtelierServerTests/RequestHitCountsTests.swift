@testable import AtelierServer
import AtelierTesting
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// SQLite's requests-per-minute hits (`RequestHitCounts`): decided in memory before the handler runs, exactly and in
/// arrival order, and stored before the request is answered: inside the admission group's transaction when the
/// request creates a job, else in a statement of their own. PostgreSQL keeps `RateHitBatcher` (its own suite).
@Suite(.enabled(if: !TestDatabase.isPostgres, "SQLite only: PostgreSQL decides requests per minute in the database"))
struct RequestHitCountsTests {
    @Test func fiftyConcurrentRequestsWithALimitOfTwentyAdmitExactlyTwentyAndAllFiftyAreStoredWhenAnswered() async throws {
        try await withAccountsApp(clock: .frozenAtWindowStart) { app in
            // setup
            let a = try await app.makeAccount("a@example.com")
            a.user.requestsPerMinute = 20
            try await a.user.update(on: app.db)
            let before = try await Self.requests(of: a.owner, app)
            // MUT
            let answers = try await RateHitBatcherTests.listJobs(50, on: app, headers: a.bearer)
            // validate: exactly 20 passed, each with its own place in the count; every hit (refused ones too) was
            // on disk when its request was answered
            #expect(before == 0)
            #expect(answers.filter { $0.0 == 200 }.count == 20)
            #expect(answers.filter { $0.0 == 429 }.count == 30)
            #expect(answers.filter { $0.0 == 200 }.compactMap(\.1).sorted() == Array(0..<20))
            #expect(answers.filter { $0.0 == 429 }.allSatisfy { $0.1 == 0 })
            #expect(try await Self.requests(of: a.owner, app) == 50)
            #expect(app.atelier.requestCounts.state.withLock { $0.pending.isEmpty && $0.storing.isEmpty && $0.waiters.isEmpty })
        }
    }

    @Test func aNewJobsHitIsStoredInItsAdmissionGroupsTransactionWithNoStatementOfItsOwn() async throws {
        try await withAccountsApp(clock: .frozenAtWindowStart) { app in
            let a = try await app.makeAccount("a@example.com")
            let counts = app.atelier.requestCounts
            let (statements, commits) = (counts.ownStatements, await app.atelier.admissions.commits)
            // MUT
            let created = try await app.postJSON("v1/generate", ["prompt": "x"], headers: a.bearer)
            // validate: one commit stored the job and its request's hit
            #expect(created.status == .accepted)
            #expect(await app.atelier.admissions.commits == commits + 1)
            #expect(counts.ownStatements == statements)
            #expect(try await Self.requests(of: a.owner, app) == 1)
            // a request that writes nothing stores its hit in a statement of its own before it is answered
            #expect(try await app.send(.GET, "v1/jobs", headers: a.bearer).status == .ok)
            #expect(counts.ownStatements == statements + 1)
            #expect(try await Self.requests(of: a.owner, app) == 2)
        }
    }

    @Test func aHitWhoseGroupRolledBackIsStoredByAStatementOfItsOwnBeforeTheAnswer() async throws {
        try await withAccountsApp(clock: .frozenAtWindowStart) { app in
            let a = try await app.makeAccount("a@example.com")
            let counts = app.atelier.requestCounts
            let statements = counts.ownStatements
            struct CommitFailed: Error {}
            await app.atelier.admissions.setHooks(beforeCommit: { _ in throw CommitFailed() })
            // MUT: the group (job and hit) rolls back
            let refused = try await app.postJSON("v1/generate", ["prompt": "x"], headers: a.bearer)
            // validate: no job, but the request still counted, stored once
            #expect(refused.status.code >= 500)
            #expect(try await AdmissionGroupCommitTests.count("SELECT COUNT(*) AS n FROM jobs", app) == 0)
            #expect(counts.ownStatements == statements + 1)
            #expect(try await Self.requests(of: a.owner, app) == 1)
        }
    }

    @Test func countsStartFromWhatIsStoredForTheWindowAndEachWindowAfterItsOwn() async throws {
        let clock = ManualClock(1_800_000_000)
        try await withTestApp(overrides: .init(clock: clock.clock)) { app in
            let sql = app.db as! any SQLDatabase
            // setup: what a process before this one counted in this window
            try await sql.raw("INSERT INTO rate_counters (subject, window_start, hits) VALUES ('req:a', 1800000000, 2)").run()
            let counts = RequestHitCounts()
            let hit = RateLimiter.Hit(subjects: [.owner(.requests, "a"), .apiKey(.requests, UUID())], limit: 3)
            #expect(counts.decideNow(hit, clock: clock.clock)?.ticket == nil, "the window's stored counts are not read yet")
            // MUT
            let third = try await counts.hit(hit, on: app.db, clock: clock.clock)
            let fourth = try #require(counts.decideNow(hit, clock: clock.clock))  // read: decided at once
            clock.advance(by: 60)
            let nextWindow = try await counts.hit(hit, on: app.db, clock: clock.clock)
            // validate
            #expect([third, fourth, nextWindow].map(\.decision.allowed) == [true, false, true])
            #expect([third, fourth, nextWindow].map(\.decision.remaining) == [0, 0, 2])
            #expect(nextWindow.decision.resetSeconds == 60)
            // stored on the windows they were decided in, one row per subject and window
            let batch = counts.take()
            try await RequestHitCounts.store(batch, on: app.db)
            counts.settle(batch, stored: true, on: app.db)
            let rows = try await sql.raw(
                "SELECT window_start, CAST(hits AS BIGINT) AS n FROM rate_counters WHERE subject = 'req:a' ORDER BY window_start"
            ).all()
            #expect(try rows.map { try $0.decode(column: "n", as: Int64.self) } == [4, 1])
            #expect(
                try await sql.raw("SELECT COUNT(*) AS n FROM rate_counters WHERE subject LIKE 'req:key:%'").first()?
                    .decode(column: "n", as: Int64.self) == 2)
            try await counts.persisted(third.ticket, on: app.db)  // stored already: returns at once
        }
    }

    static func requests(of owner: String, _ app: Application) async throws -> Int64 {
        try await AdmissionGroupCommitTests.count(
            "SELECT CAST(MAX(hits) AS BIGINT) AS n FROM rate_counters WHERE subject = 'req:\(owner)'", app)
    }
}
