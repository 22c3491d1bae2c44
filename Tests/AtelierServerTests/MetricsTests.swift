import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor

/// `GET /v1/metrics`: Prometheus text with job counts, retries, spend and queue gauges; admins only.
@Suite struct MetricsTests {
    @Test func jobsRetriesSpendAndQueueDepthAreExposed() async throws {
        let usage = FakeImageProvider.defaultUsage
        let provider = FakeImageProvider(script: [
            .images(usage: usage),
            .failure(.rateLimited(message: "slow down", retryAfter: 0)),
            .failure(.invalidRequest(message: "no", param: "prompt", code: nil)),
        ])
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: provider, clock: clock.clock)) { app in
            _ = try await app.enqueueGenerate(["prompt": "one", "model": "gpt-image-1.5"])
            _ = try await app.enqueueGenerate(["prompt": "two", "model": "gpt-image-1.5"])
            let worker = app.makeJobWorker()
            try await app.drainJobs(worker)
            clock.advance(by: 5)  // past the retry's back-off
            try await app.drainJobs(worker)
            _ = try await app.enqueueGenerate(["prompt": "still queued"])

            let response = try await app.send(.GET, "v1/metrics")
            #expect(response.status == .ok)
            #expect(response.headers.first(name: .contentType) == "text/plain; version=0.0.4; charset=utf-8")
            let text = response.body.string
            let lines = Set(text.split(separator: "\n").map(String.init))
            #expect(lines.contains(#"atelier_jobs_enqueued_total{kind="generate"} 3"#), "\(text)")
            #expect(lines.contains(#"atelier_jobs_finished_total{kind="generate",status="succeeded",error=""} 1"#))
            #expect(lines.contains(#"atelier_jobs_finished_total{kind="generate",status="failed",error="invalid_request"} 1"#))
            #expect(lines.contains(#"atelier_upstream_rate_limit_waits_total{reason="rate_limit"} 1"#), "a 429 waits, it is no retry")
            #expect(lines.contains(#"atelier_upstream_rate_limited_total{key="default"} 1"#))
            #expect(lines.contains(#"atelier_upstream_keys_stopped 0.0"#))
            #expect(lines.contains(#"atelier_jobs{status="queued"} 1.0"#))
            #expect(lines.contains(#"atelier_images_generated_total{model="gpt-image-1.5"} 1"#))
            let spend = lines.first { $0.hasPrefix(#"atelier_spend_usd_total{model="gpt-image-1.5"}"#) }
            let dollars = Double(spend?.split(separator: " ").last ?? "") ?? 0
            let listed = try await app.send(.GET, "v1/jobs").json["data"] as? [[String: Any]] ?? []
            let expected = listed.compactMap { $0["cost_usd"] as? Double }.reduce(0, +)
            #expect(dollars > 0 && abs(dollars - expected) < 1e-9, "spend \(dollars) vs jobs \(expected)")
            #expect(lines.contains { $0.hasPrefix(#"atelier_job_queue_wait_seconds_count"#) && $0.hasSuffix(" 3") })
            // Today's spend comes from the ledger, so it counts jobs run by every worker process; the queued job's
            // estimate is reserved in it too.
            let today = Double(lines.first { $0.hasPrefix("atelier_spend_today_usd ") }?.split(separator: " ").last ?? "") ?? 0
            #expect(today >= dollars && today > 0, "\(today) vs \(dollars)")
        }
    }

    @Test func onlyAdminsMayReadMetrics() async throws {
        try await withAccountsApp { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let member = try await app.makeAccount("a@example.com")
            #expect(try await app.send(.GET, "v1/metrics", headers: admin.bearer).status == .ok)
            #expect(try await app.send(.GET, "v1/metrics", headers: member.bearer).status == .notFound)
            #expect(try await app.send(.GET, "v1/metrics").status == .unauthorized)
        }
    }
}
