import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Testing
import Vapor
import VaporTesting

/// Every current model generates and edits with every quality and background the registry (checked against the
/// official SDK by tests/registry) allows it, through the real OpenAI client and the stand-in upstream; what the
/// registry refuses never leaves Atelier.
@Suite struct ModelMatrixTests {
    @Test func everyCurrentModelGeneratesWithEveryQualityAndBackgroundAndEditsWithEveryBackground() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try UpstreamEndToEndTests.config(standIn)) { app in
                let models = app.atelier.liveRegistry.current.asOf(AtelierClock.pinned().now()).models
                #expect(models.contains { $0.id == "gpt-image-2.6-flare" && $0.supports(.generations) })
                var ids: [String] = []
                for model in models where model.status == .current {
                    for quality in model.qualities {
                        ids.append(
                            try await app.enqueueGenerate(["prompt": "q", "model": model.id, "quality": quality, "size": "1024x1024"]))
                    }
                    for background in model.backgrounds {
                        ids.append(
                            try await app.enqueueGenerate([
                                "prompt": "b", "model": model.id, "background": background, "quality": "low", "size": "1024x1024",
                            ]))
                    }
                    for background in model.backgrounds {
                        var body = MultipartBody()
                        body.field("prompt", "edit with \(model.id)")
                        body.field("model", model.id)
                        body.field("quality", "low")
                        body.field("background", background)
                        body.file(
                            "image", filename: "base.png", try ImageProcessing.synthesize(width: 64, height: 64, format: .png, seed: 3))
                        let edit = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
                        #expect(edit.status == .accepted, "\(model.id) \(background): \(edit.json)")
                        ids.append(try #require(edit.json["id"] as? String))
                    }
                }
                try await app.drainJobs(app.makeJobWorker())
                for id in ids {
                    let job = try await app.send(.GET, "v1/jobs/\(id)").json
                    #expect(job["status"] as? String == "succeeded", "\(job[path: "params.model"] ?? "") \(job[path: "error"] ?? "")")
                    #expect((job["cost_usd"] as? Double ?? 0) > 0, "\(job[path: "params.model"] ?? "") has no price")
                }
                #expect(try await standIn.stats()["calls"] as? Int == ids.count)
            }
        }
    }

    @Test func transparentIsAllowedOn25ButStillAPreviewOnGptImage2() async throws {
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let allowed = try await app.postJSON(
                "v1/generate", ["prompt": "x", "model": "gpt-image-2.5-flare", "background": "transparent"])
            #expect(allowed.status == .accepted, "\(allowed.json)")
            let preview = try await app.postJSON("v1/generate", ["prompt": "x", "model": "gpt-image-2", "background": "transparent"])
            #expect(preview.status == .badRequest && preview.errorField == "background")
            let models = try await app.send(.GET, "v1/models").json["data"] as? [[String: Any]] ?? []
            let two = try #require(models.first { $0["id"] as? String == "gpt-image-2" })
            #expect(two["preview_backgrounds"] as? [String] == ["transparent"])
            #expect((two[path: "sources.backgrounds"] as? String)?.contains("image_generate_params.py") == true)
        }
    }

    @Test func newModelsArePricedSoASpendingCapAcceptsThem() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("cap@example.com")
            a.user.dailyCapNano = 5_000_000_000
            try await a.user.update(on: app.db)
            for model in ["gpt-image-2.5-sunburst", "gpt-image-2.5-flare-2026-09-08", "gpt-image-2.6-sunburst", "gpt-image-2.6-flare"] {
                let response = try await app.postJSON("v1/generate", ["prompt": "x", "model": model], headers: a.bearer)
                #expect(response.status == .accepted, "\(model): \(response.json)")
                #expect((response.json["estimated_cost_usd"] as? Double ?? 0) > 0, "\(model)")
            }
        }
    }

    @Test func autoQualityEstimatesTheRangeFromLowToHigh() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let auto = try await app.postJSON("v1/estimate", ["prompt": "abcd", "model": "gpt-image-2", "size": "1024x1024"]).json
            // gpt-image-2 at 1024²: low 200, high 7033 output tokens at $30/M, plus 1 text token at $5/M
            let low: Double = (5.0 + 200.0 * 30.0) / 1_000_000
            let high: Double = (5.0 + 7033.0 * 30.0) / 1_000_000
            #expect(auto[path: "estimated_cost_range_usd.low_usd"] as? Double == low)
            #expect(auto[path: "estimated_cost_range_usd.high_usd"] as? Double == high)
            let fixed = try await app.postJSON("v1/estimate", ["prompt": "abcd", "model": "gpt-image-2", "quality": "low"]).json
            #expect(fixed["estimated_cost_range_usd"] is NSNull)
        }
    }
}
