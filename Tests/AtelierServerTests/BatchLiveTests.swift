import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Batches in mode `live`: created in one transaction, run through the ordinary queue, with exact cost per job.
@Suite struct BatchLiveTests {
    /// What the fake provider's usage costs on gpt-image-1.5: 20 × $5/M + 4160 × $32/M.
    private let exactCost = (20 * 5.0 + 4160 * 32.0) / 1_000_000

    @Test func csvOfFiftyRowsRunsEndToEndWithExactCostPerJob() async throws {
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider)) { app in
            // RFC 4180: a quoted field with a comma, a doubled quote and a line break.
            var csv = "subject,style\n\"harbour, at dusk\",\"ink \"\"sumi\"\"\nwash\"\n"
            for index in 2...50 { csv += "lighthouse \(index),watercolour\n" }
            let created = try await app.postJSON(
                "v1/batches",
                [
                    "name": "Fifty", "mode": "live", "prompt": "a {{subject}} in {{ style }}", "csv": csv,
                    "model": "gpt-image-1.5", "size": "1024x1024", "quality": "high",
                ])
            #expect(created.status == .created, "\(created.json)")
            let id = try #require(created.json["id"] as? String)
            #expect(created.json[path: "counts.total"] as? Int == 50)
            #expect(created.json[path: "counts.queued"] as? Int == 50)
            #expect(created.json["status"] as? String == "running")
            #expect(created.json["cost_usd"] as? Double == 0)
            let estimate = try #require(created.json["estimated_cost_usd"] as? Double)
            try await app.drainJobs(app.makeJobWorker())
            let batch = try await app.send(.GET, "v1/batches/\(id)").json
            #expect(batch["status"] as? String == "completed")
            #expect(batch[path: "counts.succeeded"] as? Int == 50)
            #expect(abs((batch["cost_usd"] as? Double ?? 0) - 50 * exactCost) < 1e-9)
            let jobs = try await app.batchJobs(id)
            #expect(jobs.map { $0[path: "batch.index"] as? Int } == (0..<50).map { $0 })
            #expect(jobs.map { $0[path: "batch.row"] as? Int } == (1...50).map { $0 })
            for job in jobs {
                #expect(job["status"] as? String == "succeeded")
                #expect(abs((job["cost_usd"] as? Double ?? 0) - exactCost) < 1e-12)
                #expect(job[path: "batch.id"] as? String == id)
            }
            #expect(jobs[0][path: "params.prompt"] as? String == "a harbour, at dusk in ink \"sumi\"\nwash")
            #expect(jobs[0][path: "batch.variables.subject"] as? String == "harbour, at dusk")
            #expect(jobs[7][path: "params.prompt"] as? String == "a lighthouse 8 in watercolour")
            // The estimate counts each row's own prompt.
            let estimates = jobs.compactMap { $0["estimated_cost_usd"] as? Double }
            #expect(estimates.count == 50)
            #expect(abs(estimate - estimates.reduce(0, +)) < 1e-9)
            #expect(await provider.callCount == 50)
            // History filtered by batch: the batch's 50 jobs, none of another job.
            _ = try await app.postJSON("v1/generate", ["prompt": "not in the batch"])
            let history = try await app.send(.GET, "v1/jobs?batch=\(id)&limit=100").json
            #expect((history["data"] as? [[String: Any]])?.count == 50)
            let listed = try await app.send(.GET, "v1/batches").json
            #expect(listed[path: "data.0.id"] as? String == id)
            // The spend report and the metrics show the batch.
            let report = try await app.send(.GET, "v1/admin/spend/batches").json
            #expect(report[path: "data.0.id"] as? String == id)
            #expect(report[path: "data.0.jobs"] as? Int == 50)
            #expect(abs((report[path: "data.0.spent_usd"] as? Double ?? 0) - 50 * exactCost) < 1e-9)
            #expect(report[path: "data.0.reserved_usd"] as? Double == 0)
            let metrics = String(buffer: try await app.send(.GET, "v1/metrics").body)
            #expect(metrics.contains("atelier_batch_jobs_total{mode=\"live\"} 50"), "\(metrics.prefix(400))")
        }
    }

    @Test func threeByThreeSweepMakesNineJobsEachWithItsOptionsAndExactCost() async throws {
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let qualities = ["low", "medium", "high"]
            let sizes = ["1024x1024", "1024x1536", "1536x1024"]
            let created = try await app.postJSON(
                "v1/batches",
                [
                    "name": "Sweep", "prompt": "a red bicycle", "model": "gpt-image-1.5",
                    "sweep": ["quality": qualities, "size": sizes],
                ])
            #expect(created.status == .created, "\(created.json)")
            let id = try #require(created.json["id"] as? String)
            #expect(created.json[path: "counts.total"] as? Int == 9)
            try await app.drainJobs(app.makeJobWorker())
            let jobs = try await app.batchJobs(id, pageSize: 4)
            #expect(jobs.count == 9)
            var estimates = 0.0
            for (index, job) in jobs.enumerated() {
                #expect(job[path: "params.quality"] as? String == qualities[index / 3])
                #expect(job[path: "params.size"] as? String == sizes[index % 3])
                #expect(job["status"] as? String == "succeeded")
                #expect(abs((job["cost_usd"] as? Double ?? 0) - exactCost) < 1e-12)
                estimates += job["estimated_cost_usd"] as? Double ?? 0
            }
            let batch = try await app.send(.GET, "v1/batches/\(id)").json
            #expect(abs((batch["estimated_cost_usd"] as? Double ?? 0) - estimates) < 1e-9)
            #expect(abs((batch["cost_usd"] as? Double ?? 0) - 9 * exactCost) < 1e-9)
            #expect(batch["sweep"] as? [String: [String]] == ["quality": qualities, "size": sizes])
            let sent = await provider.requests.map { "\($0.parameters.quality) \($0.parameters.size)" }
            #expect(Set(sent).count == 9)
        }
    }

    @Test func aRestartMidBatchLosesAndRepeatsNothing() async throws {
        let clock = ManualClock(1_800_000_000)
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider, clock: clock.clock)) { app in
            let created = try await app.postJSON("v1/batches", ["prompt": "a {{subject}}", "csv": batchCSV(rows: 12)])
            let id = try #require(created.json["id"] as? String)
            let before = app.makeJobWorker()
            for _ in 0..<5 { #expect(try await before.processNext()) }
            // The process dies holding a job: claimed, never finished.
            let lost = try #require(try await before.context.queue.claim(workerID: "crashed"))
            clock.advance(by: app.atelier.config.worker.leaseSeconds + 1)
            let after = app.makeJobWorker()
            #expect(try await after.context.lifecycle.expireLeases().requeued == [lost.id!])
            try await app.drainJobs(after)
            let jobs = try await app.batchJobs(id)
            #expect(jobs.count == 12)
            #expect(jobs.allSatisfy { $0["status"] as? String == "succeeded" && ($0["images"] as? [Any])?.count == 1 })
            #expect(await provider.callCount == 12, "each row reached the provider once")
            let settled = try await app.db.sql.raw(
                "SELECT COUNT(*) AS n FROM spend_ledger WHERE state = 'settled'"
            ).first()?.decode(column: "n", as: Int.self)
            #expect(settled == 12)
            #expect(try await app.send(.GET, "v1/batches/\(id)").json["status"] as? String == "completed")
        }
    }

    @Test func cancelEndsQueuedJobsAndReleasesTheirReservationsThenRetryRequeuesFailedOnes() async throws {
        let provider = FakeImageProvider(script: [.failure(.moderationBlocked(message: "no"))])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let created = try await app.postJSON("v1/batches", ["prompt": "a {{subject}}", "csv": batchCSV(rows: 6)])
            let id = try #require(created.json["id"] as? String)
            let worker = app.makeJobWorker()
            #expect(try await worker.processNext())  // row 1 fails
            #expect(try await worker.processNext())  // row 2 succeeds
            let canceled = try await app.postJSON("v1/batches/\(id)/cancel", [:]).json
            #expect(canceled["status"] as? String == "canceled")
            #expect(canceled[path: "counts.canceled"] as? Int == 4)
            #expect(canceled[path: "counts.failed"] as? Int == 1)
            let reserved = try await app.db.sql.raw(
                "SELECT COUNT(*) AS n FROM spend_ledger WHERE state = 'reserved'"
            ).first()?.decode(column: "n", as: Int.self)
            #expect(reserved == 0)
            let retried = try await app.postJSON("v1/batches/\(id)/retry", [:]).json
            #expect(retried[path: "counts.queued"] as? Int == 1)
            #expect(retried["status"] as? String == "running")
            try await app.drainJobs(worker)
            let done = try await app.send(.GET, "v1/batches/\(id)").json
            #expect(done[path: "counts.succeeded"] as? Int == 2)
            #expect(done[path: "counts.canceled"] as? Int == 4)
            #expect(try await app.send(.DELETE, "v1/batches/\(id)").status == .noContent)
            #expect(try await app.batchAndJobCounts() == (0, 0))
        }
    }
}
