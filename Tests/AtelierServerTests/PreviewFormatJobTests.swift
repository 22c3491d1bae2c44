import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Testing
import Vapor
import VaporTesting

/// GIF and SVG output through the real OpenAI client and the stand-in: the wire shape, storage, thumbnails,
/// safe serving, svg_usage in the cost, and the switch that enables them (environment or admin page).
@Suite struct PreviewFormatJobTests {
    static func config(_ standIn: StandInServer, previews: Set<String> = ["gif", "svg"]) throws -> AtelierConfig {
        var config = try UpstreamEndToEndTests.config(standIn)
        config.previewFormats = previews
        return config
    }

    static func runJob(_ app: Application, _ body: [String: Any]) async throws -> [String: Any] {
        let created = try await app.postJSON("v1/generate", body)
        #expect(created.status == .accepted, "\(created.json)")
        let id = try #require(created.json["id"] as? String)
        try await app.drainJobs(app.makeJobWorker())
        return try await app.send(.GET, "v1/jobs/\(id)").json
    }

    static func output(_ job: [String: Any]) throws -> [String: Any] {
        try #require((job["images"] as? [[String: Any]])?.first { $0["role"] as? String == "output" })
    }

    @Test func aGifJobSendsTheFrameOptionsAndStoresAnAnimatedGifWithAFirstFrameThumbnail() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try Self.config(standIn)) { app in
                let job = try await Self.runJob(
                    app,
                    [
                        "prompt": "a bouncing ball", "model": "gpt-image-2", "size": "1024x1024", "quality": "low",
                        "output_format": "gif", "frame_count": 4, "frame_duration_ms": 120,
                    ])
                #expect(job["status"] as? String == "succeeded", "\(job)")
                let sent = try #require(try await standIn.requests().last?["json"] as? [String: Any])
                #expect(sent["output_format"] as? String == "gif" && sent["frame_count"] as? Int == 4)
                #expect(sent["frame_duration_ms"] as? Int == 120 && sent["stream"] == nil)
                let image = try Self.output(job)
                #expect(image["format"] as? String == "gif" && image["width"] as? Int == 1024)
                let id = try #require(image["id"] as? String)
                let file = try await app.send(.GET, "v1/images/\(id)")
                #expect(file.headers.contentType?.serialize() == "image/gif")
                let info = try ImageProcessing.probeOutput(Data(file.body.readableBytesView))
                #expect(info.format == "gif" && info.frames == 4 && info.height == 1024)
                let thumb = try await app.send(.GET, "v1/images/\(id)/thumbnail")
                #expect(thumb.status == .ok && thumb.headers.contentType?.serialize() == "image/webp")
                #expect(try ImageProcessing.probe(Data(thumb.body.readableBytesView)).width == 384)
                // gpt-image-2 low 1024x1024 is 200 output tokens an image (registry); the stand-in bills each frame.
                #expect((job[path: "usage.output_image_tokens"] as? Int) == 200 * 4)
            }
        }
    }

    @Test func anSvgJobStoresTheDocumentServesItSandboxedAndAddsSvgUsageToTheCost() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try Self.config(standIn)) { app in
                let job = try await Self.runJob(
                    app,
                    [
                        "prompt": "a flat rocket icon", "model": "gpt-image-2", "size": "1024x1024", "quality": "low",
                        "output_format": "svg", "svg": ["model": "gpt-5.6-terra", "reasoning": ["effort": "low"]],
                    ])
                #expect(job["status"] as? String == "succeeded", "\(job)")
                let sent = try #require(try await standIn.requests().last?["json"] as? [String: Any])
                #expect(sent[path: "svg.model"] as? String == "gpt-5.6-terra")
                #expect(sent[path: "svg.reasoning.effort"] as? String == "low")
                let image = try Self.output(job)
                #expect(image["format"] as? String == "svg" && image["width"] as? Int == 1024)
                let file = try await app.send(.GET, "v1/images/\(try #require(image["id"] as? String))")
                #expect(file.headers.contentType?.serialize() == "image/svg+xml")
                #expect(file.headers.first(name: "X-Content-Type-Options") == "nosniff")
                #expect(file.headers.first(name: "Content-Security-Policy")?.hasPrefix("sandbox") == true)
                #expect(String(buffer: file.body).contains("<svg"))
                let thumb = try await app.send(.GET, "v1/images/\(try #require(image["id"] as? String))/thumbnail")
                #expect(try ImageProcessing.probe(Data(thumb.body.readableBytesView)).format == .webp)
                let svgUsage = try #require(job[path: "usage.svg_usage"] as? [String: Any])
                #expect(svgUsage["model"] as? String == "gpt-5.6-terra" && svgUsage["reasoning_tokens"] as? Int == 250)
                let text = try #require(job[path: "usage.input_text_tokens"] as? Int)
                let out = try #require(job[path: "usage.output_image_tokens"] as? Int)
                let svgIn = try #require(svgUsage["input_tokens"] as? Int), svgOut = try #require(svgUsage["output_tokens"] as? Int)
                let expected = (Double(text) * 5 + Double(out) * 30 + Double(svgIn) * 2.5 + Double(svgOut) * 15) / 1_000_000
                #expect(abs(try #require(job["cost_usd"] as? Double) - expected) < 1e-12, "\(job)")
            }
        }
    }

    @Test func editsSendTheSvgObjectAsTheSDKsMultipartFieldsAndGifRefusesAMask() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try Self.config(standIn)) { app in
                let png = try ImageProcessing.synthesize(width: 1024, height: 1024, format: .png, seed: 7)
                var body = MultipartBody()
                body.field("prompt", "as a vector")
                body.field("model", "gpt-image-2")
                body.field("output_format", "svg")
                body.field("svg[model]", "gpt-5.6-luna")
                body.field("svg[reasoning][effort]", "none")
                body.file("image", filename: "in.png", png)
                let created = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
                #expect(created.status == .accepted, "\(created.json)")
                try await app.drainJobs(app.makeJobWorker())
                let fields = try #require(try await standIn.requests().last?["fields"] as? [String: Any])
                #expect(fields["svg[model]"] as? String == "gpt-5.6-luna" && fields["svg[reasoning][effort]"] as? String == "none")
                let job = try await app.send(.GET, "v1/jobs/\(try #require(created.json["id"] as? String))").json
                let output = try Self.output(job)
                #expect(job["status"] as? String == "succeeded" && output["format"] as? String == "svg", "\(job)")

                var gif = MultipartBody()
                gif.field("prompt", "wave")
                gif.field("model", "gpt-image-2")
                gif.field("output_format", "gif")
                gif.file("image", filename: "in.png", png)
                gif.file("mask", filename: "mask.png", png)
                let refused = try await app.send(.POST, "v1/edit", headers: gif.headers, body: gif.buffer)
                #expect(refused.status == .badRequest && refused.errorField == "mask", "\(refused.json)")
                #expect(try await standIn.stats()["edits"] as? Int == 1)
            }
        }
    }

    @Test func previewFormatsAreOffByDefaultAndTheAdminSettingTurnsThemOn() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try Self.config(standIn, previews: [])) { app in
                let body: [String: Any] = ["prompt": "a loop", "model": "gpt-image-2", "output_format": "gif"]
                let refused = try await app.postJSON("v1/generate", body)
                #expect(refused.status == .badRequest && refused.errorField == "output_format")
                #expect(refused.errorCode == "preview_not_enabled")
                #expect(try await app.send(.GET, "v1/models").json["preview_formats_enabled"] as? [String] == [])
                let json: HTTPHeaders = ["Content-Type": "application/json"]
                let bad = try await app.send(
                    .PUT, "v1/admin/settings", headers: json, body: ByteBuffer(string: #"{"preview_formats":["apng"]}"#))
                #expect(bad.status == .badRequest && bad.errorField == "preview_formats")
                let set = try await app.send(
                    .PUT, "v1/admin/settings", headers: json, body: ByteBuffer(string: #"{"preview_formats":["gif"]}"#))
                #expect(set.json["preview_formats"] as? [String] == ["gif"], "\(set.json)")
                #expect(try await app.send(.GET, "v1/models").json["preview_formats_enabled"] as? [String] == ["gif"])
                #expect(try await app.postJSON("v1/generate", body).status == .accepted)
                let svg = try await app.postJSON("v1/generate", ["prompt": "x", "model": "gpt-image-2", "output_format": "svg"])
                #expect(svg.errorField == "output_format")
                #expect(try await standIn.stats()["generations"] as? Int ?? 0 == 0)
            }
        }
    }

    @Test func theOfflineDemoMakesRealGifsAndSvgs() async throws {
        var config = try AtelierConfig.testing()
        config.previewFormats = ["gif", "svg"]
        try await withTestApp(config) { app in
            for (format, extra) in [("gif", ["frame_count": 3] as [String: Any]), ("svg", [:])] {
                let job = try await Self.runJob(
                    app,
                    [
                        "prompt": "offline \(format)", "model": "gpt-image-2", "size": "1024x1024", "quality": "low",
                        "output_format": format,
                    ].merging(extra) { a, _ in a })
                let image = try Self.output(job)
                #expect(job["status"] as? String == "succeeded" && image["format"] as? String == format, "\(job)")
                let file = try await app.send(.GET, "v1/images/\(try #require(image["id"] as? String))")
                let info = try ImageProcessing.probeOutput(Data(file.body.readableBytesView))
                #expect(info.format == format && info.frames == (format == "gif" ? 3 : 1))
            }
        }
    }
}
