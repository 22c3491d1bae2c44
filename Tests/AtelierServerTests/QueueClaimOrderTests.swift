import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// The order claims take jobs in (`JobQueue.claim`), on SQLite and PostgreSQL: within one owner, jobs outside a
/// batch before batch jobs; between owners, turns (running jobs + k-th job), also when one statement takes many.
@Suite struct QueueClaimOrderTests {
    @Test func aUsersSingleJobGoesBeforeTheirOwnLiveBatch() async throws {
        try await withAccountsApp { app in
            let ann = try await app.makeAccount("ann@example.com")
            let batch = try await app.postJSON("v1/batches", ["prompt": "a {{subject}}", "csv": batchCSV(rows: 20)], headers: ann.bearer)
            #expect(batch.status == .created, "\(batch.json)")
            let queue = app.makeJobWorker().context.queue
            let firstRow = try #require(try await queue.claim(workerID: "w"))
            #expect(firstRow.batchIndex == 0)
            let single = try await app.postJSON("v1/generate", ["prompt": "just one"], headers: ann.bearer)
            let singleID = try #require(single.json["id"] as? String)
            // Created after 20 rows of her own batch, Ann's single job is her next one claimed; then the rows resume in order.
            let next = try #require(try await queue.claim(workerID: "w"))
            #expect(next.id?.uuidString.lowercased() == singleID)
            #expect(next.batchID == nil)
            let rest = try await queue.claim(workerID: "w", limit: 3).jobs
            #expect(rest.map(\.batchIndex).sorted { ($0 ?? -1) < ($1 ?? -1) } == [1, 2, 3])
        }
    }

    @Test func oneClaimOfManyJobsSharesThemOutByTurnsAndKeepsThePerOwnerLimit() async throws {
        var config = try AtelierConfig.testing(access: .accountsTesting)
        config.worker.perOwnerLimit = 4
        try await withTestApp(config, overrides: .init(provider: FakeImageProvider())) { app in
            let ann = try await app.makeAccount("ann@example.com")
            let bob = try await app.makeAccount("bob@example.com")
            let cat = try await app.makeAccount("cat@example.com")
            #expect(
                try await app.postJSON("v1/batches", ["prompt": "a {{subject}}", "csv": batchCSV(rows: 30)], headers: ann.bearer).status
                    == .created)
            for _ in 0..<3 { #expect(try await app.postJSON("v1/generate", ["prompt": "bob's"], headers: bob.bearer).status == .accepted) }
            #expect(try await app.postJSON("v1/generate", ["prompt": "cat's"], headers: cat.bearer).status == .accepted)
            let queue = app.makeJobWorker().context.queue
            // Turns: 1 = Ann, Bob, Cat; 2 = Ann, Bob; 3 = Ann, Bob; so six jobs are 2 or 3 of Ann's and Bob's and Cat's one.
            let six = try await queue.claim(workerID: "w", limit: 6).jobs
            let counts = Dictionary(grouping: six, by: \.owner).mapValues(\.count)
            #expect(six.count == 6)
            #expect(counts[cat.owner] == 1)
            #expect(counts[ann.owner].map { (2...3).contains($0) } == true && counts[bob.owner].map { (2...3).contains($0) } == true)
            #expect(Set(six.map(\.status)) == ["running"])
            // The next claim continues the turns from the running counts; nobody passes the per-owner limit of 4.
            let rest = try await queue.claim(workerID: "w", limit: 16).jobs
            let total = Dictionary(grouping: six + rest, by: \.owner).mapValues(\.count)
            #expect(total == [ann.owner: 4, bob.owner: 3, cat.owner: 1])
            #expect(try await queue.claim(workerID: "w", limit: 16).jobs.isEmpty)
        }
    }
}
