import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor

/// Claiming order across owners, per-owner limits, lease expiry and the exactly-once commit.
@Suite struct QueueLeaseTests {
    private func insertJobs(_ app: Application, owner: String, count: Int, from start: Double) async throws -> [UUID] {
        var ids: [UUID] = []
        for index in 0..<count {
            let params = try await app.atelier.validator(app.db).validate(
                ImageRequestInput(prompt: "\(owner) \(index)"), for: .generations)
            let job = JobRecord(owner: owner, kind: .generate, params: params, maxAttempts: 3, now: start + Double(index))
            _ = try await app.lifecycle().enqueue(job, images: [], budget: .unlimited)
            ids.append(try job.requireID())
        }
        return ids
    }

    private func owners(of ids: [UUID], _ app: Application) async throws -> [String] {
        var owners: [String] = []
        for id in ids { owners.append(try #require(try await JobRecord.find(id, on: app.db)).owner) }
        return owners
    }

    @Test func claimingInterleavesOwnersSoABigBatchCannotStarveOthers() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            // Owner "big" queued 20 jobs before "small" queued 3.
            _ = try await insertJobs(app, owner: "big", count: 20, from: clock.now - 100)
            _ = try await insertJobs(app, owner: "small", count: 3, from: clock.now - 50)
            let queue = app.makeJobWorker().context.queue
            let lifecycle = app.lifecycle()
            var claimed: [UUID] = []
            for _ in 0..<8 { claimed.append(try #require(try await queue.claim(workerID: "w")?.id)) }
            let owners = try await owners(of: claimed, app)
            #expect(owners.prefix(6) == ["big", "small", "big", "small", "big", "small"], "\(owners)")
            #expect(owners.suffix(2) == ["big", "big"])
        }
    }

    @Test func concurrentClaimersEachGetADifferentJobOfTheSameOwner() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            _ = try await insertJobs(app, owner: "one", count: 12, from: clock.now - 100)
            let queue = app.makeJobWorker().context.queue
            let lifecycle = app.lifecycle()
            let claimed = try await withThrowingTaskGroup(of: UUID?.self) { group in
                for index in 0..<8 { group.addTask { try await queue.claim(workerID: "w\(index)")?.id } }
                return try await group.reduce(into: [UUID?]()) { $0.append($1) }
            }
            #expect(!claimed.contains(nil), "no claimer comes back empty-handed while jobs are due")
            #expect(Set(claimed.compactMap { $0 }).count == 8)
            let running = try await JobRecord.query(on: app.db).filter(\.$status == "running").count()
            #expect(running == 8)
        }
    }

    @Test func perOwnerLimitHoldsBackAnOwnerAtItsLimit() async throws {
        let clock = ManualClock()
        let config = try AtelierConfig.testing(perOwnerLimit: 2)
        try await withTestApp(config, overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            _ = try await insertJobs(app, owner: "a", count: 5, from: clock.now - 10)
            _ = try await insertJobs(app, owner: "b", count: 1, from: clock.now - 5)
            let queue = app.makeJobWorker().context.queue
            let lifecycle = app.lifecycle()
            var claimed: [UUID] = []
            while let job = try await queue.claim(workerID: "w") { claimed.append(try job.requireID()) }
            #expect(try await owners(of: claimed, app).sorted() == ["a", "a", "b"])
        }
    }

    @Test func jobsNotYetDueAreNotClaimed() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            _ = try await insertJobs(app, owner: "a", count: 1, from: clock.now + 30)
            let queue = app.makeJobWorker().context.queue
            let lifecycle = app.lifecycle()
            #expect(try await queue.claim(workerID: "w") == nil)
            clock.advance(by: 30)
            #expect(try await queue.claim(workerID: "w") != nil)
        }
    }

    @Test func anExpiredLeaseIsRequeuedAndTheJobCommitsExactlyOnce() async throws {
        let clock = ManualClock()
        let provider = FakeImageProvider(script: [
            .hold(usage: FakeImageProvider.defaultUsage), .images(usage: FakeImageProvider.defaultUsage),
        ])
        let config = try AtelierConfig.testing(leaseSeconds: 30)
        try await withTestApp(config, overrides: .init(provider: provider, clock: clock.clock)) { app in
            let id = try await app.enqueueGenerate(["prompt": "survives its worker", "partial_images": 1])
            let jobID = try #require(UUID(uuidString: id))
            let live = app.makeJobWorker()
            let queue = live.context.queue
            let lifecycle = app.lifecycle()

            // A worker claims the job, starts the upstream call and stops heart-beating (it "died").
            let claimed = try #require(try await queue.claim(workerID: "dead-worker"))
            #expect(claimed.id == jobID)
            let dead = JobRunner(context: live.context, workerID: "dead-worker")
            let deadRun = Task { await dead.run(claimed) { false } }
            await provider.waitUntilHolding()

            #expect(try await lifecycle.expireLeases().requeued.isEmpty, "the lease has not expired yet")
            clock.advance(by: 31)
            #expect(try await lifecycle.expireLeases().requeued == [jobID])
            let requeued = try await app.jobRecord(id)
            #expect(requeued.status == "queued")
            #expect(requeued.leaseOwner == nil)

            // Another worker runs it to the end.
            #expect(try await live.processNext())
            let done = try await app.job(id)
            #expect(done["status"] as? String == "succeeded")
            #expect(done["attempts"] as? Int == 2)
            let cost = try #require(done["cost_usd"] as? Double)

            // The dead worker wakes up late: its commit is refused and its blobs are removed.
            await provider.release()
            _ = await deadRun.value
            let after = try await app.job(id)
            #expect(after["status"] as? String == "succeeded")
            #expect(after["cost_usd"] as? Double == cost)
            #expect(after["upstream_request_id"] as? String == done["upstream_request_id"] as? String)
            let outputs = try await ImageRecord.query(on: app.db).filter(\.$job.$id == jobID)
                .filter(\.$role == "output").all()
            #expect(outputs.count == 1)
            #expect(outputs.allSatisfy { $0.blobKey.contains("/a2/") })
            #expect(!app.blobFiles(of: id).contains { $0.hasPrefix("a1/output") }, "\(app.blobFiles(of: id))")
            let succeededEvents = try await JobEventRecord.query(on: app.db)
                .filter(\.$jobID == jobID).filter(\.$type == "job.succeeded").count()
            #expect(succeededEvents == 1)
            #expect(await provider.callCount == 2)
        }
    }

    @Test func aLostLeaseCannotFailReleaseOrCancelTheJobEither() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let id = try await app.enqueueGenerate()
            let jobID = try #require(UUID(uuidString: id))
            let queue = app.makeJobWorker().context.queue
            let lifecycle = app.lifecycle()
            #expect(try await queue.claim(workerID: "old")?.id == jobID)
            clock.advance(by: 31)
            #expect(try await lifecycle.expireLeases().requeued == [jobID])
            #expect(try await queue.claim(workerID: "new")?.id == jobID)
            #expect(try await lifecycle.requeue(jobID, workerID: "old", .retryLater(delay: 0, error: .timeout)) == nil)
            #expect(try await lifecycle.requeue(jobID, workerID: "old", .abandon(announce: true)) == nil)
            let ending = JobLifecycle.Ending(status: .failed, code: "x", message: "x", retryable: false, costNano: nil, release: true)
            #expect(try await lifecycle.end(jobID, workerID: "old", ending) == nil)
            let record = try await app.jobRecord(id)
            #expect(record.status == "running")
            #expect(record.leaseOwner == "new")
            #expect(record.attempts == 2)
        }
    }

    @Test func heartbeatKeepsALongJobLeased() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let id = try await app.enqueueGenerate()
            let jobID = try #require(UUID(uuidString: id))
            let queue = app.makeJobWorker().context.queue
            let lifecycle = app.lifecycle()
            #expect(try await queue.claim(workerID: "w")?.id == jobID)
            for _ in 0..<5 {
                clock.advance(by: 20)
                #expect(try await lifecycle.heartbeat(workerID: "w", jobIDs: [jobID], leaseSeconds: 30).isEmpty)
                #expect(try await lifecycle.expireLeases().requeued.isEmpty)
            }
            #expect(try await app.jobRecord(id).leaseExpires == clock.now + 30)
        }
    }

    @Test func aJobThatKeepsKillingItsWorkerStopsAfterMaxAttempts() async throws {
        let clock = ManualClock()
        try await withTestApp(try .testing(maxAttempts: 2), overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let id = try await app.enqueueGenerate()
            let jobID = try #require(UUID(uuidString: id))
            let queue = app.makeJobWorker().context.queue
            let lifecycle = app.lifecycle()
            for attempt in 1...2 {
                #expect(try await queue.claim(workerID: "crash-\(attempt)")?.id == jobID)
                clock.advance(by: 31)
                _ = try await lifecycle.expireLeases().requeued
            }
            let record = try await app.jobRecord(id)
            #expect(record.status == "failed", "a poison job must not be requeued forever")
            #expect(record.errorCode == "lease_expired")
            #expect(try await queue.claim(workerID: "w") == nil)
        }
    }
}
