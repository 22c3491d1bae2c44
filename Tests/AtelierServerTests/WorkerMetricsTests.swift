import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor

/// The worker's counters on `/v1/metrics`: a job started at its admission (the fast path) and a job the worker
/// claimed (once, then again after a retryable failure) move their own counters, and each success is counted once.
@Suite struct WorkerMetricsTests {
    @Test func aFastPathJobAndAClaimedJobMoveTheirCounters() async throws {
        let provider = FakeImageProvider(script: [
            .images(usage: FakeImageProvider.defaultUsage), .failure(.serverError(status: 503, message: "busy")),
        ])
        try await CompatStartNowTests.withRunningWorker(provider: provider) { app, worker in
            let fast = try await app.postJSON("v1/images/generations", ["prompt": "fast", "size": "1024x1024"])
            #expect(fast.status == .ok, "\(fast.json)")
            var lines = try await Self.metrics(app)
            #expect(lines.contains("atelier_worker_jobs_started_at_admission_total 1"), "\(lines)")
            #expect(lines.contains(#"atelier_worker_jobs_finished_total{status="succeeded"} 1"#))
            #expect(!lines.contains { $0.hasPrefix("atelier_worker_jobs_claimed_total") }, "no claim for the fast path")

            let queued = try await app.postJSON("v1/generate", ["prompt": "claimed", "size": "1024x1024"])
            #expect(queued.status == .accepted)
            _ = try await CompatStartNowTests.firstJob(app, prompt: "claimed", status: "succeeded")
            lines = try await Self.metrics(app)
            #expect(lines.contains("atelier_worker_jobs_claimed_total 2"), "claimed, then claimed again after its retry: \(lines)")
            #expect(lines.contains(#"atelier_worker_jobs_requeued_total{reason="retry"} 1"#))
            #expect(lines.contains(#"atelier_worker_jobs_finished_total{status="succeeded"} 2"#))
            #expect(lines.contains("atelier_worker_jobs_started_at_admission_total 1"))
            #expect(worker.claimed == 2 && worker.startedAtAdmission == 1)
        }
    }

    @Test func aJobTheWorkerFailsIsCountedByItsStatus() async throws {
        let provider = FakeImageProvider(script: [.failure(.invalidRequest(message: "no", param: "prompt", code: nil))])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            _ = try await app.enqueueGenerate(["prompt": "refused upstream", "size": "1024x1024"])
            try await app.drainJobs(app.makeJobWorker())
            let lines = try await Self.metrics(app)
            #expect(lines.contains(#"atelier_worker_jobs_finished_total{status="failed"} 1"#), "\(lines)")
            #expect(lines.contains("atelier_worker_jobs_claimed_total 1"))
        }
    }

    static func metrics(_ app: Application) async throws -> [String] {
        let response = try await app.send(.GET, "v1/metrics")
        #expect(response.status == .ok)
        return response.body.string.split(separator: "\n").map(String.init).filter { $0.hasPrefix("atelier_worker_") }
    }
}
