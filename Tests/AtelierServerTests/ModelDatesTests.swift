import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Shutdown dates act: refused locally with the replacement, queued jobs fail when claimed (never sent upstream),
/// `/v1/models` reports deprecations. The clock is pinned; the real date never matters.
@Suite struct ModelDatesTests {
    static func noon(_ day: String) -> Double {
        (try! Date.ISO8601FormatStyle().year().month().day().parse(day)).timeIntervalSince1970 + 43_200
    }

    static let replacementMessage = "Model 'gpt-image-1.5' was shut down on 2026-12-01; use 'gpt-image-2.5-sunburst' instead."

    @Test func pastTheShutdownDateRequestsAreRefusedLocally() async throws {
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider, clock: ManualClock(Self.noon("2026-12-01")).clock)) { app in
            let generate = try await app.postJSON("v1/generate", ["prompt": "x", "model": "gpt-image-1.5"])
            #expect(generate.status == .badRequest)
            #expect(generate.errorField == "model" && generate.errorCode == "model_retired")
            #expect(generate.json[path: "error.message"] as? String == Self.replacementMessage)
            let compat = try await app.postJSON("v1/images/generations", ["prompt": "x", "model": "gpt-image-1-mini"])
            #expect(compat.status == .badRequest)
            #expect(compat.json[path: "error.param"] as? String == "model")
            #expect((compat.json[path: "error.message"] as? String)?.contains("'gpt-image-2.5-flare'") == true)
            #expect(await provider.callCount == 0)
        }
    }

    @Test func aJobQueuedBeforeTheDateFailsWhenClaimedAfterIt() async throws {
        let provider = FakeImageProvider()
        let clock = ManualClock(Self.noon("2026-11-30"))
        try await withTestApp(overrides: .init(provider: provider, clock: clock.clock)) { app in
            let id = try await app.enqueueGenerate(["prompt": "late", "model": "gpt-image-1.5"])
            clock.advance(by: 86_400)
            try await app.drainJobs(app.makeJobWorker())
            let job = try await app.send(.GET, "v1/jobs/\(id)").json
            #expect(job["status"] as? String == "failed")
            #expect(job[path: "error.code"] as? String == "model_retired")
            #expect(job[path: "error.message"] as? String == Self.replacementMessage)
            #expect(await provider.callCount == 0)
            let ledger = try await app.db.sql.raw("SELECT state FROM spend_ledger WHERE job_id = \(bind: UUID(uuidString: id)!)").all()
            #expect(try ledger.map { try $0.decode(column: "state", as: String.self) } == ["released"], "its reservation is released")
            let retried = try await app.send(.POST, "v1/jobs/\(id)/retry")
            #expect(retried.status == .badRequest)
            #expect(retried.errorField == "model")
        }
    }

    @Test func modelsListReportsDeprecationsThenRetirement() async throws {
        let clock = ManualClock(Self.noon("2026-11-15"))
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let before = try await app.send(.GET, "v1/models").json
            let models = before["data"] as? [[String: Any]] ?? []
            let mini = try #require(models.first { $0["id"] as? String == "gpt-image-1-mini" })
            #expect(mini["status"] as? String == "deprecated")
            #expect(mini["shutdown_date"] as? String == "2026-12-01")
            #expect(mini["replacement"] as? String == "gpt-image-2.5-flare")
            let notices = before["deprecations"] as? [[String: Any]] ?? []
            #expect(notices.count == 3)
            #expect(notices.allSatisfy { $0["days_left"] as? Int == 16 })
            #expect(models.first { $0["id"] as? String == "gpt-image-2.6-sunburst" }?["status"] as? String == "current")

            clock.advance(by: 16 * 86_400)
            let after = try await app.send(.GET, "v1/models").json
            let ids = (after["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(!ids.contains("gpt-image-1-mini") && !ids.contains("gpt-image-1.5") && !ids.contains("chatgpt-image-latest"))
            let retired = after["retired"] as? [[String: Any]] ?? []
            #expect(
                retired.contains {
                    $0["id"] as? String == "chatgpt-image-latest" && $0["replacement"] as? String == "gpt-image-2.6-sunburst"
                })
            #expect((after["deprecations"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func theDefaultModelFallsBackToItsReplacementWithAWarning() async throws {
        var config = try AtelierConfig.testing()
        config.registry.defaultModel = "gpt-image-1.5"
        let provider = FakeImageProvider()
        let logs = CapturedLogs()
        try await withTestApp(config, overrides: .init(provider: provider, clock: ManualClock(Self.noon("2026-12-05")).clock)) { app in
            app.atelier.liveRegistry.logger = Logger(label: "capture") { _ in CapturingLogHandler(logs: logs) }
            do {
                let id = try await app.enqueueGenerate(["prompt": "no model named"])
                let job = try await app.send(.GET, "v1/jobs/\(id)").json
                #expect(job[path: "params.model"] as? String == "gpt-image-2.5-sunburst")
                #expect(try await app.send(.GET, "v1/models").json["default_model"] as? String == "gpt-image-2.5-sunburst")
            }
            #expect(logs.all.filter { $0.contains("the default model has shut down") }.count == 1)
        }
    }
}

/// An `openai_batch` batch held before its model's shutdown date and submitted after it: those jobs are never sent
/// upstream; they fail naming the replacement, their reservations released, and the batch's other jobs go on.
@Suite struct ModelDatesHeldBatchTests {
    static var options: [String: Any] { ["size": "1024x1024", "quality": "low", "prompt": "a {{subject}}"] }

    @Test func heldJobsOnAModelThatShutDownFailWithoutReachingTheUpstream() async throws {
        try await OpenAIBatchHarness.run(start: ModelDatesTests.noon("2026-11-30")) { h in
            let id = try await h.create(
                Self.options.merging(["csv": batchCSV(rows: 2), "sweep": ["model": ["gpt-image-2", "gpt-image-1.5"]]]) { $1 })
            h.clock.advance(by: 86_400)
            try await h.runBatch(id)
            let jobs = try await h.app.batchJobs(id)
            let shutDown = jobs.filter { $0[path: "params.model"] as? String == "gpt-image-1.5" }
            #expect(shutDown.count == 2)
            #expect(shutDown.allSatisfy { $0["status"] as? String == "failed" && $0[path: "error.code"] as? String == "model_retired" })
            #expect(shutDown.allSatisfy { $0[path: "error.message"] as? String == ModelDatesTests.replacementMessage })
            let sent = try await h.imageCalls().compactMap { $0[path: "json.model"] as? String }
            #expect(sent == ["gpt-image-2", "gpt-image-2"], "only the served model's lines went upstream")
            #expect(try await h.batch(id)[path: "counts.succeeded"] as? Int == 2)
            #expect(try await h.ledgerStates() == ["settled": 2, "released": 2])
        }
    }

    @Test func aBatchWhoseEveryJobShutDownSendsNothingAndFails() async throws {
        try await OpenAIBatchHarness.run(start: ModelDatesTests.noon("2026-11-30")) { h in
            let id = try await h.create(Self.options.merging(["csv": batchCSV(rows: 3), "model": "gpt-image-1-mini"]) { $1 })
            h.clock.advance(by: 86_400)
            try await h.runBatch(id)
            #expect(try await h.standIn.requests().isEmpty, "no file uploaded, no batch created")
            let shown = try await h.batch(id)
            #expect(shown["status"] as? String == "failed")
            #expect(shown[path: "counts.failed"] as? Int == 3)
            let jobs = try await h.app.batchJobs(id)
            #expect(jobs.allSatisfy { ($0[path: "error.message"] as? String)?.contains("use 'gpt-image-2.5-flare' instead") == true })
            #expect(try await h.ledgerStates() == ["released": 3])
        }
    }
}
