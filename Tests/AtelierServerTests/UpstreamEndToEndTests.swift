import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Logging
import Testing
import Vapor
import VaporTesting

/// Through the real OpenAI client against the stand-in upstream on a loopback port.
@Suite struct UpstreamEndToEndTests {
    static let key = "sk-test-secret-4242424242"

    static func config(_ standIn: StandInServer) throws -> AtelierConfig {
        try .testing(openAI: .init(apiKey: key, baseURL: standIn.baseURL, timeoutSeconds: 60))  // see `standInConfig`
    }

    @Test func generateLeavesImagesOnDiskAndUsageAndCostOnTheJob() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try Self.config(standIn)) { app in
                let created = try await app.postJSON(
                    "v1/generate",
                    [
                        "prompt": "a red fox in snow", "model": "gpt-image-1.5", "size": "1024x1024", "quality": "low",
                    ])
                let id = try #require(created.json["id"] as? String)
                try await app.drainJobs(app.makeJobWorker())
                let job = try await app.send(.GET, "v1/jobs/\(id)").json
                #expect(job["status"] as? String == "succeeded", "\(job)")
                let usage = try #require(job["usage"] as? [String: Any])
                let text = try #require(usage["input_text_tokens"] as? Int)
                let out = try #require(usage["output_image_tokens"] as? Int)
                #expect(out == 272)
                let cost = try #require(job["cost_usd"] as? Double)
                #expect(abs(cost - (Double(text) * 5 + Double(out) * 32) / 1_000_000) < 1e-12)
                #expect((job["upstream_request_id"] as? String)?.hasPrefix("req_") == true)
                let files = EditInputTests.blobFiles(app).filter { $0.contains("/output-0.png") }
                #expect(files.count == 1)
                #expect(try await standIn.stats()["generations"] as? Int == 1)
            }
        }
    }

    @Test func sixteenImagesAndAMaskReachTheUpstreamInTheSDKsMultipartForm() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try Self.config(standIn)) { app in
                var body = MultipartBody()
                body.field("prompt", "blend these")
                body.field("model", "gpt-image-1.5")
                body.field("input_fidelity", "high")
                for index in 0..<16 {
                    body.file(
                        "image[]", filename: "in\(index).png",
                        try ImageProcessing.synthesize(width: 1024, height: 1024, format: .png, seed: UInt64(index)))
                }
                var pixels = [UInt8](repeating: 255, count: 1024 * 1024 * 4)
                for y in 0..<256 { for x in 0..<256 { pixels[(y * 1024 + x) * 4 + 3] = 0 } }
                body.file(
                    "mask", filename: "mask.png",
                    try ImageProcessing.encode(pixels: pixels, width: 1024, height: 1024, channels: 4, format: .png))
                let created = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
                #expect(created.status == .accepted, "\(created.json)")
                let id = try #require(created.json["id"] as? String)
                try await app.drainJobs(app.makeJobWorker())
                let job = try await app.send(.GET, "v1/jobs/\(id)").json
                #expect(job["status"] as? String == "succeeded", "\(job)")
                #expect((job["images"] as? [[String: Any]])?.compactMap { $0["role"] as? String } == ["output"])
                #expect((job["extras"] as? [[String: Any]])?.compactMap { $0["role"] as? String } == ["changes", "raw"])
                #expect((job[path: "usage.input_image_tokens"] as? Int ?? 0) > 0)
                let request = try #require(try await standIn.requests().last)
                let files = try #require(request["files"] as? [[String: Any]])
                #expect(files.filter { $0["name"] as? String == "image[]" }.count == 16)
                let mask = try #require(files.first { $0["name"] as? String == "mask" })
                #expect(mask["has_alpha"] as? Bool == true && mask["width"] as? Int == 1024)
                #expect(files.allSatisfy { $0["content_type"] as? String == "image/png" })
                #expect((request["fields"] as? [String: Any])?["input_fidelity"] as? String == "high")
            }
        }
    }

    @Test func theOpenAIKeyNeverAppearsInResponsesOrLogs() async throws {
        let lines = CapturedLogs()
        try await StandInServer.run { standIn in
            try await withTestApp(try Self.config(standIn)) { app in
                app.logger = Logger(label: "capture") { _ in CapturingLogHandler(logs: lines) }
                app.logger.logLevel = .trace
                try await standIn.inject([["kind": "unauthenticated"]])
                var bodies: [String] = []
                let created = try await app.postJSON("v1/generate", ["prompt": "secret check", "model": "gpt-image-2"])
                bodies.append(String(buffer: created.body))
                try await app.drainJobs(app.makeJobWorker())
                let id = try #require(created.json["id"] as? String)
                for path in ["v1/jobs/\(id)", "v1/jobs", "v1/status", "v1/models", "openapi.json"] {
                    bodies.append(String(buffer: try await app.send(.GET, path).body))
                }
                let job = try await app.send(.GET, "v1/jobs/\(id)").json
                #expect(job[path: "error.code"] as? String == "upstream_unauthenticated")
                for body in bodies { #expect(!body.contains(Self.key)) }
            }
        }
        #expect(!lines.all.isEmpty)
        #expect(lines.all.allSatisfy { !$0.contains(Self.key) })
    }
}
