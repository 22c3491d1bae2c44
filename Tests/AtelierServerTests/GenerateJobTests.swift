import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

@Suite struct GenerateJobTests {
    @Test func generateRunsAsAJobAndStoresImagesUsageAndCost() async throws {
        // setup
        let usage = Usage(inputTokens: 12, inputTextTokens: 12, outputTokens: 4160, outputImageTokens: 4160)
        let provider = FakeImageProvider(script: [.images(usage: usage)])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            // MUT
            let created = try await app.postJSON(
                "v1/generate",
                [
                    "prompt": "a lighthouse at dusk", "model": "gpt-image-1.5", "size": "1024x1024", "quality": "high", "n": 1,
                ])
            #expect(created.status == .accepted)
            #expect(created.json["status"] as? String == "queued")
            let id = try #require(created.json["id"] as? String)
            try await app.drainJobs(app.makeJobWorker())
            // validate
            let job = try await app.send(.GET, "v1/jobs/\(id)").json
            #expect(job["status"] as? String == "succeeded")
            let images = try #require(job["images"] as? [[String: Any]])
            #expect(images.count == 1)
            #expect(images[0]["width"] as? Int == 1024)
            #expect(images[0]["format"] as? String == "png")
            #expect(job[path: "usage.output_image_tokens"] as? Int == 4160)
            // 12 × $5/M + 4160 × $32/M
            let cost = try #require(job["cost_usd"] as? Double)
            #expect(abs(cost - (12 * 5.0 + 4160 * 32.0) / 1_000_000) < 1e-12)
            let url = try #require(images[0]["url"] as? String)
            let bytes = try await app.send(.GET, String(url.dropFirst()))
            #expect(bytes.status == .ok)
            #expect(bytes.headers.contentType == .png)
            #expect(bytes.headers.first(name: .eTag) != nil)
            #expect(bytes.body.readableBytes == images[0]["bytes"] as? Int)
            let provided = await provider.requests
            #expect(provided.count == 1)
            #expect(provided.first?.parameters.quality == "high")
        }
    }

    @Test func imageBytesHonourRangeAndETag() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let id = try #require(try await app.postJSON("v1/generate", ["prompt": "range"]).json["id"] as? String)
            try await app.drainJobs(app.makeJobWorker())
            let job = try await app.send(.GET, "v1/jobs/\(id)").json
            let url = try #require(job[path: "images.0.url"] as? String)
            let full = try await app.send(.GET, String(url.dropFirst()))
            let partial = try await app.send(.GET, String(url.dropFirst()), headers: ["Range": "bytes=0-9"])
            #expect(partial.status == .partialContent)
            #expect(partial.body.readableBytes == 10)
            #expect(partial.headers.first(name: .contentRange) == "bytes 0-9/\(full.body.readableBytes)")
            let etag = try #require(full.headers.first(name: .eTag))
            let cached = try await app.send(.GET, String(url.dropFirst()), headers: ["If-None-Match": etag])
            #expect(cached.status == .notModified)
            let thumb = try await app.send(.GET, String(url.dropFirst()) + "/thumbnail")
            #expect(thumb.headers.contentType?.subType == "webp")
        }
    }

    @Test func invalidOptionsAreRefusedWithTheFieldAndNothingIsSent() async throws {
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let cases: [([String: Any], String)] = [
                (["prompt": "x", "model": "gpt-image-1.5", "size": "2048x2048"], "size"),
                (["prompt": "x", "model": "gpt-image-2", "size": "1000x1000"], "size"),
                (["prompt": "x", "model": "gpt-image-2", "size": "3840x1024"], "size"),
                (["prompt": "x", "model": "gpt-image-2", "quality": "xhigh"], "quality"),
                (["prompt": "x", "model": "gpt-image-2", "background": "transparent"], "background"),
                (["prompt": "x", "model": "gpt-image-1.5", "background": "transparent", "output_format": "jpeg"], "background"),
                (["prompt": "x", "output_format": "png", "output_compression": 50], "output_compression"),
                (["prompt": "x", "output_format": "gif"], "output_format"),
                (["prompt": "x", "n": 11], "n"),
                (["prompt": "x", "partial_images": 4], "partial_images"),
                (["prompt": "x", "model": "gpt-image-2", "complexity": "high"], "complexity"),
                (["prompt": "x", "input_fidelity": "high"], "input_fidelity"),
                (["prompt": ""], "prompt"),
                (["prompt": String(repeating: "a", count: 32_001)], "prompt"),
                (["prompt": "x", "model": "gpt-image-1"], "model"),
                (["prompt": "x", "model": "dall-e-3"], "model"),
                (["prompt": "x", "n": "two"], "n"),
            ]
            for (body, field) in cases {
                let response = try await app.postJSON("v1/generate", body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorField == field, "\(body) → \(response.json)")
                #expect(((response.json["error"] as? [String: Any])?["message"] as? String)?.isEmpty == false)
            }
            #expect(await provider.callCount == 0)
            let jobs = try await app.send(.GET, "v1/jobs").json["data"] as? [Any]
            #expect(jobs?.isEmpty == true)
        }
    }

    @Test func retiredModelsNameTheirReplacement() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let response = try await app.postJSON("v1/generate", ["prompt": "x", "model": "gpt-image-1"])
            #expect(response.errorCode == "model_retired")
            let message = (response.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("2026-10-23"))
            #expect(message.contains("gpt-image-2.5"))
        }
    }

    @Test func freeSizesAndNewQualitiesPassForModelsThatAllowThem() async throws {
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let response = try await app.postJSON(
                "v1/generate",
                [
                    "prompt": "wide", "model": "gpt-image-2.5-sunburst", "size": "2048x1152", "quality": "xhigh",
                    "complexity": "low", "format": "webp", "compression": 80,
                ])
            #expect(response.status == .accepted)
            #expect(response.json[path: "params.output_format"] as? String == "webp")
            #expect(response.json[path: "params.output_compression"] as? Int == 80)
        }
    }

    @Test func modelsEndpointReturnsTheRegistry() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let body = try await app.send(.GET, "v1/models").json
            #expect(body["default_model"] as? String == "gpt-image-2")
            let ids = (body["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            for id in [
                "gpt-image-1-mini", "gpt-image-1.5", "chatgpt-image-latest", "gpt-image-2", "gpt-image-2-2026-04-21",
                "gpt-image-2.5-sunburst", "gpt-image-2.5-flare", "gpt-image-2.6-sunburst", "gpt-image-2.6-flare",
            ] {
                #expect(ids.contains(id), "\(id)")
            }
            #expect(!ids.contains("gpt-image-1"))
            let retired = (body["retired"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(Set(retired) == ["gpt-image-1", "dall-e-2", "dall-e-3"])
        }
    }
}
