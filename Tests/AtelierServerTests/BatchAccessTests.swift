import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Batches with accounts: ownership and scopes like jobs, the spend caps held once for the whole estimate, and
/// the queue's fair share between one user's batch and another's single job.
@Suite struct BatchAccessTests {
    @Test func aBatchIsItsOwnersAndNeedsTheGenerateScope() async throws {
        try await withAccountsApp { app in
            let ann = try await app.makeAccount("ann@example.com")
            let bob = try await app.makeAccount("bob@example.com")
            let reader = try await app.makeAccount("rea@example.com", scopes: [.read])
            let created = try await app.postJSON("v1/batches", ["prompt": "a {{subject}}", "csv": batchCSV(rows: 2)], headers: ann.bearer)
            #expect(created.status == .created, "\(created.json)")
            let id = try #require(created.json["id"] as? String)
            for (method, path) in [(HTTPMethod.GET, ""), (.GET, "/jobs"), (.POST, "/cancel"), (.POST, "/retry"), (.DELETE, "")] {
                let response = try await app.send(method, "v1/batches/\(id)\(path)", headers: bob.bearer)
                #expect(response.status == .notFound, "\(method) \(path)")
            }
            let bobs = try await app.send(.GET, "v1/batches", headers: bob.bearer).json["data"] as? [Any]
            #expect(bobs?.isEmpty == true)
            let scoped = try await app.postJSON("v1/batches", ["prompt": "a fox"], headers: reader.bearer)
            #expect(scoped.status == .forbidden)
            #expect(try await app.send(.GET, "v1/batches").status == .unauthorized)
        }
    }

    @Test func theEstimatedTotalIsHeldAgainstTheCapAsOneAmount() async throws {
        try await withAccountsApp { app in
            let ann = try await app.makeAccount("ann@example.com")
            let body: [String: Any] = [
                "prompt": "a {{subject}}", "csv": batchCSV(rows: 10), "model": "gpt-image-1.5", "quality": "low", "size": "1024x1024",
            ]
            let estimate = try #require(
                try await app.postJSON("v1/batches/validate", body, headers: ann.bearer).json["estimated_cost_usd"] as? Double)
            ann.user.dailyCapNano = Int64((estimate * 1e9).rounded()) - 1
            try await ann.user.update(on: app.db)
            let refused = try await app.postJSON("v1/batches", body, headers: ann.bearer)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "spend_cap_reached")
            #expect(try await app.batchAndJobCounts() == (0, 0))
            ann.user.dailyCapNano = Int64((estimate * 1e9).rounded())
            try await ann.user.update(on: app.db)
            #expect(try await app.postJSON("v1/batches", body, headers: ann.bearer).status == .created)
            let next = try await app.postJSON(
                "v1/generate", ["prompt": "one more", "model": "gpt-image-1.5", "quality": "low"], headers: ann.bearer)
            #expect(next.errorCode == "spend_cap_reached", "the batch's reservation fills the cap")
        }
    }

    @Test func aUsersTwoHundredRowBatchDoesNotStarveAnotherUsersSingleJob() async throws {
        try await withAccountsApp { app in
            let ann = try await app.makeAccount("ann@example.com")
            let bob = try await app.makeAccount("bob@example.com")
            let batch = try await app.postJSON("v1/batches", ["prompt": "a {{subject}}", "csv": batchCSV(rows: 200)], headers: ann.bearer)
            #expect(batch.status == .created, "\(batch.json)")
            let single = try await app.postJSON("v1/generate", ["prompt": "just one"], headers: bob.bearer)
            let singleID = try #require(single.json["id"] as? String)
            let queue = app.makeJobWorker().context.queue
            // The worker's slots: Ann's oldest row first, then Bob's job, although 199 rows of Ann's are older.
            let first = try #require(try await queue.claim(workerID: "w"))
            let second = try #require(try await queue.claim(workerID: "w"))
            #expect(first.owner == ann.owner && first.batchIndex == 0)
            #expect(second.id?.uuidString.lowercased() == singleID)
            // Ann never holds more than her share of the slots (WORKER_PER_OWNER_LIMIT).
            let limit = app.atelier.config.worker.perOwnerLimit
            for _ in 1..<limit { #expect(try await queue.claim(workerID: "w")?.owner == ann.owner) }
            #expect(try await queue.claim(workerID: "w") == nil)
        }
    }
}
