import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import OpenAIStandIn
import Testing
import Vapor

/// Batches in mode `openai_batch` end to end against the stand-in's Files and Batch APIs: JSONL upload, polling,
/// output and error files turned into jobs at the batch price, partial failure, expiry, cancel and restart.
@Suite struct BatchOpenAITests {
    static var options: [String: Any] { ["model": "gpt-image-2", "size": "1024x1024", "quality": "low"] }

    @Test func csvOfFiftyRowsRunsAsOneOpenAIBatchAtTheDiscountedCost() async throws {
        try await OpenAIBatchHarness.run { h in
            let id = try await h.create(
                Self.options.merging(["name": "Fifty", "prompt": "a {{subject}} in {{style}}", "csv": batchCSV(rows: 50)]) { $1 })
            // Submit: the jobs run under the OpenAI batch, whose state the batch shows.
            #expect(try await h.runner.runNext())
            var shown = try await h.batch(id)
            #expect(shown["status"] as? String == "running")
            #expect(shown["upstream_status"] as? String == "validating")
            #expect((shown["upstream_batch_id"] as? String)?.hasPrefix("batch_") == true)
            #expect(shown[path: "counts.running"] as? Int == 50)
            #expect(try await h.runner.runNext() == false, "the next poll waits for its back-off")
            h.clock.advance(by: OpenAIBatchRunner.firstPollDelay)
            #expect(try await h.runner.runNext())
            #expect(try await h.batch(id)["upstream_status"] as? String == "in_progress")
            try await h.runBatch(id)
            shown = try await h.batch(id)
            #expect(shown["status"] as? String == "completed")
            #expect(shown["upstream_status"] as? String == "completed")
            #expect(shown[path: "counts.succeeded"] as? Int == 50)
            let jobs = try await h.app.batchJobs(id)
            #expect(jobs.allSatisfy { $0["status"] as? String == "succeeded" && ($0["images"] as? [Any])?.count == 1 })
            #expect(jobs[7][path: "params.prompt"] as? String == "a lighthouse 8 in watercolour")
            let total = try await h.expectDiscountedCosts(id)
            #expect(shown["cost_usd"] as? Double == NSDecimalNumber(decimal: CostCalculator.dollars(nano: total)).doubleValue)
            #expect(try await h.imageCalls().count == 50, "each line ran upstream once")
            #expect(try await h.ledgerStates() == ["settled": 50])
            // Each line's body is what the live path sends for the same job.
            let firstLine = try #require(try await h.imageCalls().first?["json"] as? [String: Any])
            let live = try await h.app.postJSON("v1/generate", Self.options.merging(["prompt": "a lighthouse 1 in watercolour"]) { $1 })
            #expect(live.status == .accepted)
            try await h.app.drainJobs(h.app.makeJobWorker())
            let liveBody = try #require(try await h.imageCalls().last?["json"] as? [String: Any])
            #expect(NSDictionary(dictionary: firstLine) == NSDictionary(dictionary: liveBody))
            #expect(firstLine["stream"] == nil && firstLine["safety_identifier"] != nil)
        }
    }

    @Test func aThreeByThreeSweepRunsEachCombinationOnceAtItsDiscountedCost() async throws {
        try await OpenAIBatchHarness.run { h in
            let qualities = ["low", "medium", "high"]
            let sizes = ["1024x1024", "1024x1536", "1536x1024"]
            let id = try await h.create([
                "name": "Sweep", "prompt": "a red bicycle", "model": "gpt-image-2", "sweep": ["quality": qualities, "size": sizes],
            ])
            try await h.runBatch(id)
            let jobs = try await h.app.batchJobs(id)
            #expect(jobs.count == 9)
            for (index, job) in jobs.enumerated() {
                #expect(job["status"] as? String == "succeeded")
                #expect(job[path: "params.quality"] as? String == qualities[index / 3])
                #expect(job[path: "params.size"] as? String == sizes[index % 3])
            }
            let total = try await h.expectDiscountedCosts(id)
            #expect(total > 0)
            let sent = try await h.imageCalls().compactMap { $0["json"] as? [String: Any] }.map {
                "\($0["quality"] ?? "") \($0["size"] ?? "")"
            }
            #expect(Set(sent) == Set(qualities.flatMap { q in sizes.map { "\(q) \($0)" } }))
            #expect(try await h.ledgerStates() == ["settled": 9])
        }
    }

    @Test func aRefusedLineFailsItsJobWithTheUpstreamErrorAndReleasesItsReservation() async throws {
        try await OpenAIBatchHarness.run { h in
            try await h.standIn.inject([["kind": "moderation_blocked"]], match: "generations")
            let id = try await h.create(Self.options.merging(["prompt": "a {{subject}}", "csv": batchCSV(rows: 5)]) { $1 })
            try await h.runBatch(id)
            let shown = try await h.batch(id)
            #expect(shown["status"] as? String == "completed")
            #expect(shown[path: "counts.succeeded"] as? Int == 4)
            #expect(shown[path: "counts.failed"] as? Int == 1)
            let failed = try #require(try await h.app.batchJobs(id).first { $0["status"] as? String == "failed" })
            #expect(failed[path: "error.code"] as? String == "moderation_blocked")
            #expect(failed["cost_usd"] is NSNull)
            _ = try await h.expectDiscountedCosts(id)
            #expect(try await h.ledgerStates() == ["settled": 4, "released": 1])
        }
    }

    @Test func expiryFailsTheLinesThatNeverRan() async throws {
        var options = StandInOptions()
        options.batchLinesPerPoll = 2
        try await OpenAIBatchHarness.run(options: options) { h in
            let id = try await h.create(Self.options.merging(["prompt": "a {{subject}}", "csv": batchCSV(rows: 5)]) { $1 })
            try await h.submitAndRunFirstLines()
            #expect(try await h.imageCalls().count == 2)
            try await h.standIn.expireBatch(try #require(try await h.record(id).upstreamBatchID))
            try await h.runBatch(id)
            let shown = try await h.batch(id)
            #expect(shown["upstream_status"] as? String == "expired")
            #expect(shown[path: "counts.succeeded"] as? Int == 2)
            #expect(shown[path: "counts.failed"] as? Int == 3)
            let jobs = try await h.app.batchJobs(id)
            #expect(jobs.suffix(3).allSatisfy { $0[path: "error.code"] as? String == "batch_expired" })
            #expect(try await h.ledgerStates() == ["settled": 2, "released": 3])
        }
    }

    @Test func cancelCancelsUpstreamKeepsFinishedLinesAndReleasesTheRest() async throws {
        var options = StandInOptions()
        options.batchLinesPerPoll = 1
        try await OpenAIBatchHarness.run(options: options) { h in
            let id = try await h.create(Self.options.merging(["prompt": "a {{subject}}", "csv": batchCSV(rows: 3)]) { $1 })
            try await h.submitAndRunFirstLines()
            #expect(try await h.imageCalls().count == 1)
            let canceled = try await h.app.postJSON("v1/batches/\(id)/cancel", [:])
            #expect(canceled.status == .ok)
            #expect(canceled.json["status"] as? String == "canceled")
            #expect(try await h.record(id).upstreamStatus == "cancelling", "the OpenAI batch is canceled at once")
            try await h.runBatch(id)
            let shown = try await h.batch(id)
            #expect(shown["status"] as? String == "canceled")
            #expect(shown["upstream_status"] as? String == "cancelled")
            #expect(shown[path: "counts.succeeded"] as? Int == 1, "the line that ran was paid for: its job keeps its image")
            #expect(shown[path: "counts.canceled"] as? Int == 2)
            #expect(try await h.imageCalls().count == 1)
            #expect(try await h.ledgerStates() == ["settled": 1, "released": 2])
        }
    }

    @Test func cancelBeforeSubmissionSendsNothing() async throws {
        try await OpenAIBatchHarness.run { h in
            let id = try await h.create(Self.options.merging(["prompt": "a {{subject}}", "csv": batchCSV(rows: 3)]) { $1 })
            #expect(try await h.app.postJSON("v1/batches/\(id)/cancel", [:]).json[path: "counts.canceled"] as? Int == 3)
            try await h.runBatch(id)
            #expect(try await h.standIn.requests().isEmpty, "no file uploaded, no batch created")
            #expect(try await h.batch(id)["status"] as? String == "canceled")
            #expect(try await h.ledgerStates() == ["released": 3])
        }
    }

    @Test func moreJobsThanOneOpenAIBatchHoldsAreRefusedBeforeAnythingIsCreated() async throws {
        try await OpenAIBatchHarness.run { h in
            let refused = try await h.app.postJSON(
                "v1/batches",
                Self.options.merging([
                    "mode": "openai_batch", "prompt": "a {{subject}}", "csv": batchCSV(rows: 5_001), "sweep": ["n": Array(1...10)],
                ]) { $1 })
            #expect(refused.status == .badRequest, "\(refused.json)")
            #expect(refused.json[path: "error.field"] as? String == "mode")
            #expect((refused.json[path: "error.message"] as? String)?.contains("50010 jobs") == true)
            #expect(try await h.app.batchAndJobCounts() == (0, 0))
        }
    }

    @Test func jobsRunningUpstreamInAnOpenAIBatchDoNotUseTheOwnersWorkerLimit() async throws {
        try await OpenAIBatchHarness.run(perOwnerLimit: 2) { h in
            let id = try await h.create(Self.options.merging(["prompt": "a {{subject}}", "csv": batchCSV(rows: 3)]) { $1 })
            #expect(try await h.runner.runNext())
            #expect(try await h.batch(id)[path: "counts.running"] as? Int == 3)
            let single = try await h.app.enqueueGenerate(["prompt": "a single job beside the batch", "model": "gpt-image-2"])
            #expect(try await h.app.makeJobWorker().processNext(), "the owner's live job is claimed")
            #expect(try await h.app.job(single)["status"] as? String == "succeeded")
        }
    }

    @Test func offlineServersRefuseTheMode() async throws {
        try await withTestApp { app in
            let refused = try await app.postJSON("v1/batches", ["mode": "openai_batch", "prompt": "a fox"])
            #expect(refused.status == .badRequest)
            #expect(refused.json[path: "error.field"] as? String == "mode")
            #expect(try await app.batchAndJobCounts() == (0, 0))
        }
    }
}
