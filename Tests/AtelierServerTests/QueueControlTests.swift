import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor

/// Idempotency, cancel, retry, delete and `?wait=N`.
@Suite struct QueueControlTests {
    @Test func idempotencyKeyReturnsTheSameJobAndRefusesAnotherBody() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let body: [String: Any] = ["prompt": "same", "size": "1024x1024"]
            let first = try await app.postJSON("v1/generate", body, headers: ["Idempotency-Key": "k-1"])
            let again = try await app.postJSON("v1/generate", body, headers: ["Idempotency-Key": "k-1"])
            #expect(first.status == .accepted)
            #expect(again.status == .accepted)
            #expect(again.json["id"] as? String == first.json["id"] as? String)
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(first.headers.first(name: "Idempotent-Replayed") == nil)
            let other = try await app.postJSON("v1/generate", ["prompt": "different"], headers: ["Idempotency-Key": "k-1"])
            #expect(other.status == .unprocessableEntity)
            #expect(other.errorCode == "idempotency_key_reused")
            let fresh = try await app.postJSON("v1/generate", body, headers: ["Idempotency-Key": "k-2"])
            #expect(fresh.json["id"] as? String != first.json["id"] as? String)
            #expect(try await JobRecord.query(on: app.db).count() == 2)
        }
    }

    @Test func cancelingAQueuedJobEndsItWithoutAnUpstreamCall() async throws {
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let id = try await app.enqueueGenerate()
            let canceled = try await app.send(.POST, "v1/jobs/\(id)/cancel")
            #expect(canceled.status == .ok)
            #expect(canceled.json["status"] as? String == "canceled")
            #expect(try await app.makeJobWorker().processNext() == false)
            #expect(await provider.callCount == 0)
            let again = try await app.send(.POST, "v1/jobs/\(id)/cancel")
            #expect(again.status == .conflict)
        }
    }

    @Test func cancelingARunningJobAbortsTheWorkerTask() async throws {
        let provider = FakeImageProvider(script: [.hold(usage: FakeImageProvider.defaultUsage)])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let (worker, stop) = app.runWorker()
            let id = try await app.enqueueGenerate()
            await provider.waitUntilHolding()
            #expect(worker.inFlight == 1)
            #expect(try await app.jobRecord(id).status == "running")
            _ = try await app.send(.POST, "v1/jobs/\(id)/cancel")
            let job = try await app.awaitEnd(of: id)
            #expect(job["status"] as? String == "canceled")
            #expect(job[path: "error.code"] as? String == "canceled")
            #expect((job["images"] as? [Any])?.isEmpty == true)
            #expect(job["cost_usd"] is NSNull, "cost_usd is present and null")
            await stop()
            #expect(worker.inFlight == 0)
            #expect(await provider.callCount == 1)
        }
    }

    @Test func cancelRequestedOnAnotherInstanceReachesTheWorkerThroughItsHeartbeat() async throws {
        // Every attempt holds until its task is canceled: the job cannot end by itself (not even if a stalled
        // heartbeat lets the lease lapse and the job runs again), only by the cancel reaching the worker.
        let hold = FakeImageProvider.Reply.hold(usage: FakeImageProvider.defaultUsage)
        let provider = FakeImageProvider(script: [hold, hold, hold])
        // A 6 s lease renewed every 2 s: the heartbeat would have to stall 4 s for the lease to lapse and the job to
        // be requeued before the cancel arrives (a 1.5 s lease lapsed under full parallel load).
        var config = try AtelierConfig.testing(leaseSeconds: 6)
        config.worker.pollSeconds = 0.05
        try await withTestApp(config, overrides: .init(provider: provider)) { app in
            let (_, stop) = app.runWorker()
            let id = try await app.enqueueGenerate()
            await provider.waitUntilHolding()
            app.jobWorker = nil  // the HTTP side of "another instance" cannot reach this worker directly
            let requested = try await app.send(.POST, "v1/jobs/\(id)/cancel")
            #expect(requested.json["status"] as? String == "running")  // only requested: the worker must end it
            let job = try await app.awaitEnd(of: id)
            #expect(job["status"] as? String == "canceled")
            #expect(job[path: "error.code"] as? String == "canceled")
            #expect(await provider.canceledHolds >= 1)  // the worker canceled the held upstream call
            await stop()
        }
    }

    @Test func failedAndCanceledJobsCanBeRetried() async throws {
        let provider = FakeImageProvider(script: [.failure(.moderationBlocked(message: "no."))])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let worker = app.makeJobWorker()
            let failed = try await app.enqueueGenerate()
            try await app.drainJobs(worker)
            #expect(try await app.job(failed)["status"] as? String == "failed")
            let canceled = try await app.enqueueGenerate()
            _ = try await app.send(.POST, "v1/jobs/\(canceled)/cancel")

            for id in [failed, canceled] {
                let retried = try await app.send(.POST, "v1/jobs/\(id)/retry")
                #expect(retried.status == .ok)
                #expect(retried.json["status"] as? String == "queued")
                #expect(retried.json["attempts"] as? Int == 0)
                #expect(retried.json["error"] is NSNull, "error is present and null")
            }
            try await app.drainJobs(worker)
            for id in [failed, canceled] {
                let job = try await app.job(id)
                #expect(job["status"] as? String == "succeeded")
                #expect((job["images"] as? [Any])?.count == 1)
            }
            let refused = try await app.send(.POST, "v1/jobs/\(failed)/retry")
            #expect(refused.status == .conflict)
            #expect(refused.errorCode == "job_not_retryable")
        }
    }

    @Test func deleteRemovesRowsAndBlobs() async throws {
        let provider = FakeImageProvider(script: [
            .images(usage: FakeImageProvider.defaultUsage), .hold(usage: FakeImageProvider.defaultUsage),
        ])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let id = try await app.enqueueGenerate(["prompt": "to delete", "partial_images": 2])
            try await app.drainJobs(app.makeJobWorker())
            let job = try await app.job(id)
            #expect(job["status"] as? String == "succeeded")
            #expect((job["partials"] as? [Any])?.count == 2)
            #expect(app.blobFiles(of: id).count == 3, "\(app.blobFiles(of: id))")  // 1 output + 2 partials
            // Thumbnails are made when first asked for.
            let output = try #require((job["images"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await app.send(.GET, "v1/images/\(output)/thumbnail").status == .ok)
            #expect(app.blobFiles(of: id).count == 4, "\(app.blobFiles(of: id))")
            let jobID = try #require(UUID(uuidString: id))
            #expect(try await JobEventRecord.query(on: app.db).filter(\.$jobID == jobID).count() > 0)

            let deleted = try await app.send(.DELETE, "v1/jobs/\(id)")
            #expect(deleted.status == .noContent)
            #expect(try await app.send(.GET, "v1/jobs/\(id)").status == .notFound)
            #expect(try await ImageRecord.query(on: app.db).filter(\.$job.$id == jobID).count() == 0)
            #expect(try await JobEventRecord.query(on: app.db).filter(\.$jobID == jobID).count() == 0)
            #expect(app.blobFiles(of: id).isEmpty, "\(app.blobFiles(of: id))")

            // A running job is not deleted.
            let (_, stop) = app.runWorker()
            let running = try await app.enqueueGenerate()
            await provider.waitUntilHolding()
            let refused = try await app.send(.DELETE, "v1/jobs/\(running)")
            #expect(refused.status == .conflict)
            await provider.release()
            _ = try await app.awaitEnd(of: running)
            await stop()
        }
    }

    @Test func waitReturnsTheFinishedJobOrTheJobAsItStands() async throws {
        let provider = FakeImageProvider(script: [
            .images(usage: FakeImageProvider.defaultUsage), .hold(usage: FakeImageProvider.defaultUsage),
        ])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let (_, stop) = app.runWorker()
            let finished = try await app.postJSON("v1/generate?wait=20", ["prompt": "waited for"])
            #expect(finished.status == .ok)
            #expect(finished.json["status"] as? String == "succeeded")
            #expect((finished.json["images"] as? [Any])?.count == 1)
            #expect(finished.headers.first(name: .location) != nil)

            // The second job is held upstream: a short wait answers 202 with the job as it stands.
            let pending = try await app.postJSON("v1/generate?wait=0.3", ["prompt": "still running"])
            #expect(pending.status == .accepted)
            #expect(["queued", "running"].contains(pending.json["status"] as? String ?? ""))
            await provider.release()
            _ = try await app.awaitEnd(of: try #require(pending.json["id"] as? String))
            await stop()
        }
    }
}
