@testable import AtelierServer
import AtelierTesting
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Requests-per-minute hits counted in batches (`RateHitBatcher`, `RateLimiter.hit(all:)`): one statement for the
/// hits that arrive together, each decided exactly as if counted one after another. `CallerResolver` uses it on
/// PostgreSQL; SQLite decides in memory (`RequestHitCountsTests`).
@Suite struct RateHitBatcherTests {
    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL: SQLite's requests go through RequestHitCounts"))
    func fiftyConcurrentRequestsShareTwoStatementsAndALimitOfTwentyAdmitsExactlyTwenty() async throws {
        try await withAccountsApp(clock: .frozenAtWindowStart) { app in
            // setup: a limit of 20 a minute; the first batch is held until the 49 others wait for the next one
            let a = try await app.makeAccount("a@example.com")
            a.user.requestsPerMinute = 20
            try await a.user.update(on: app.db)
            let batcher = app.atelier.requestHits
            let before = await batcher.statements
            await batcher.setHook(beforeStatement: { size in
                guard await batcher.statements == before else { return }
                await batcher.untilWaiting(50 - size)
            })
            // MUT
            let answers = try await RateHitBatcherTests.listJobs(50, on: app, headers: a.bearer)
            // validate: two statements counted all 50; exactly 20 passed, each with its own place in the count
            let (statements, batched) = (await batcher.statements - before, await batcher.countedHits)
            #expect(statements == 2, "\(batched) hits counted")
            #expect(answers.filter { $0.0 == 200 }.count == 20)
            #expect(answers.filter { $0.0 == 429 }.count == 30)
            #expect(answers.filter { $0.0 == 200 }.compactMap(\.1).sorted() == Array(0..<20))
            #expect(answers.filter { $0.0 == 429 }.allSatisfy { $0.1 == 0 })
            let counted = try await (app.db as! any SQLDatabase).raw(
                "SELECT CAST(hits AS BIGINT) AS n FROM rate_counters WHERE subject = \(bind: "req:\(a.owner)")"
            ).first()?.decode(column: "n", as: Int64.self)
            #expect(counted == 50)
        }
    }

    @Test func aBatchDecidesEachHitAsIfCountedInOrder() async throws {
        try await withTestApp(overrides: .init(clock: .frozenAtWindowStart)) { app in
            let limiter = RateLimiter(database: app.db, clock: app.atelier.clock)
            let a = RateLimitSubject.owner(.requests, "a"), b = RateLimitSubject.owner(.requests, "b")
            // setup: "a" already has one hit in this window
            _ = try await limiter.hit([a], limit: 10)
            // MUT: a; a and b; b costing 2; a (limit 3: a's fourth hit is refused)
            let decisions = try await limiter.hit(all: [
                .init(subjects: [a], limit: 3), .init(subjects: [a, b], limit: 3), .init(subjects: [b], cost: 2, limit: 3),
                .init(subjects: [a], limit: 3),
            ])
            // validate
            #expect(decisions.map(\.allowed) == [true, true, true, false])
            #expect(decisions.map(\.remaining) == [1, 0, 0, 0])
            // the next batch starts from the counts the first left (a 4, b 3), refused hits included
            let next = try await limiter.hit(all: [.init(subjects: [b], limit: 4), .init(subjects: [a], limit: 5)])
            #expect(next.map(\.allowed) == [true, true])
            #expect(next.map(\.remaining) == [0, 0])
            #expect(try await limiter.hit(all: []).isEmpty)
        }
    }

    /// `count` concurrent `GET /v1/jobs`: each answer's status and `X-RateLimit-Remaining`.
    static func listJobs(_ count: Int, on app: Application, headers: HTTPHeaders) async throws -> [(UInt, Int?)] {
        try await withThrowingTaskGroup(of: (UInt, Int?).self) { group in
            for _ in 0..<count {
                group.addTask {
                    let response = try await app.send(.GET, "v1/jobs", headers: headers)
                    return (response.status.code, Int(response.headers.first(name: "X-RateLimit-Remaining") ?? ""))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }
}
