import AsyncHTTPClient
import AtelierCore
import Foundation
import ImageProcessing
import NIOCore
import OpenAIStandIn
import Testing

@testable import OpenAIImages

@Suite("OpenAI images client against the stand-in")
struct ClientTests {
    static func png(_ width: Int, _ height: Int, seed: UInt64, transparent: Bool = false) throws -> Data {
        try ImageProcessing.synthesize(width: width, height: height, format: .png, seed: seed, transparent: transparent)
    }

    @Test func generationSendsExactlyTheSetFieldsAndHeaders() async throws {
        try await Harness.run { h in
            let provider = h.provider(h.configuration(organization: "org-123", project: "proj_456"))
            let parameters = ImageParameters(
                prompt: "a red fox in the snow", model: "gpt-image-2", n: 1, size: "1024x1024", quality: "low",
                background: "opaque", outputFormat: "jpeg", outputCompression: 80, moderation: "low")
            let result = try await provider.run(
                ProviderRequest(parameters: parameters, safetyIdentifier: "user-hash-1")
            ) { _ in }
            #expect(result.images.count == 1)
            #expect(result.images[0].starts(with: [0xFF, 0xD8, 0xFF]))
            #expect(result.requestID?.hasPrefix("req_") == true)
            #expect(result.size == "1024x1024")
            #expect(result.quality == "low")
            #expect(result.outputFormat == "jpeg")
            #expect(result.background == "opaque")
            let usage = try #require(result.usage)
            #expect(usage.inputTextTokens == max(1, "a red fox in the snow".count / 4))
            #expect(usage.outputImageTokens == 200)  // registry: gpt-image-2 low 1024x1024
            #expect(usage.totalTokens == usage.inputTokens + usage.outputTokens)

            let recorded = try await h.recorded()
            #expect(recorded.count == 1)
            let entry = recorded[0]
            #expect(entry["path"] as? String == "/v1/images/generations")
            let json = try #require(entry["json"] as? [String: Any])
            let expected: [String: Any] = [
                "prompt": "a red fox in the snow", "model": "gpt-image-2", "n": 1, "size": "1024x1024", "quality": "low",
                "background": "opaque", "output_format": "jpeg", "output_compression": 80, "moderation": "low",
                "safety_identifier": "user-hash-1",
            ]
            func canonical(_ object: [String: Any]) throws -> String {
                String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            }
            #expect(try canonical(json) == canonical(expected))
            #expect(json["response_format"] == nil)
            #expect(!json.values.contains { $0 is NSNull })
            let headers = try #require(entry["headers"] as? [String: String])
            #expect(entry["authorization_present"] as? Bool == true)
            #expect(headers["authorization"] == nil)
            #expect(headers["openai-organization"] == "org-123")
            #expect(headers["openai-project"] == "proj_456")
            #expect(headers["accept"] == "application/json")
            #expect(headers["content-type"] == "application/json")

            // The key never reaches the logs, but the request id does.
            let logs = h.logs.text
            #expect(!logs.isEmpty)
            #expect(!logs.contains(Harness.apiKey))
            #expect(!logs.contains("SECRET"))
            #expect(logs.contains(result.requestID!))
            #expect(!String(describing: h.configuration()).contains("SECRET"))
        }
    }

    @Test func editWithOneImageUsesPartImage() async throws {
        try await Harness.run { h in
            let image = try Self.png(256, 256, seed: 1)
            let parameters = ImageParameters(
                prompt: "make it blue", model: "gpt-image-1.5", size: "1024x1536", quality: "medium",
                moderation: "low", inputFidelity: "high")
            let request = ProviderRequest(
                parameters: parameters,
                images: [ImageUpload(filename: "photo.png", contentType: "application/octet-stream", data: image)])
            let result = try await h.provider().run(request) { _ in }
            #expect(result.images.count == 1)
            #expect(result.size == "1024x1536")
            #expect(result.usage?.inputImageTokens == 65 + 129)

            let entry = try #require(try await h.recorded().first)
            #expect(entry["path"] as? String == "/v1/images/edits")
            #expect((entry["content_type"] as? String)?.hasPrefix("multipart/form-data; boundary=") == true)
            let fields = try #require(entry["fields"] as? [String: String])
            #expect(
                fields == [
                    "prompt": "make it blue", "model": "gpt-image-1.5", "n": "1", "size": "1024x1536", "quality": "medium",
                    "background": "auto", "output_format": "png", "input_fidelity": "high",
                ])
            let files = try #require(entry["files"] as? [[String: Any]])
            #expect(files.count == 1)
            #expect(files[0]["name"] as? String == "image")
            #expect(files[0]["filename"] as? String == "photo.png")
            #expect(files[0]["content_type"] as? String == "image/png")  // sniffed, never octet-stream
            #expect(files[0]["width"] as? Int == 256)
            // The recorded bytes are the bytes sent.
            let (status, raw) = try await h.get("/_standin/requests/\(entry["index"] as! Int)/files/0")
            #expect(status == 200)
            #expect(Data(raw.readableBytesView) == image)
        }
    }

    @Test func editWithSixteenImagesAndMask() async throws {
        try await Harness.run { h in
            var images: [ImageUpload] = []
            for index in 0..<16 {
                images.append(
                    ImageUpload(filename: "in\(index).png", contentType: "image/png", data: try Self.png(64, 64, seed: UInt64(index))))
            }
            let mask = ImageUpload(filename: "mask.png", contentType: "image/png", data: try Self.png(64, 64, seed: 99, transparent: true))
            let parameters = ImageParameters(prompt: "combine all", model: "gpt-image-2", size: "1024x1024", quality: "low")
            let result = try await h.provider().run(ProviderRequest(parameters: parameters, images: images, mask: mask)) { _ in }
            #expect(result.images.count == 1)
            #expect(result.usage?.inputImageTokens == 16 * (65 + 129))

            let entry = try #require(try await h.recorded().first)
            let files = try #require(entry["files"] as? [[String: Any]])
            #expect(files.map { $0["name"] as? String } == Array(repeating: "image[]", count: 16) + ["mask"])
            #expect(files.last?["has_alpha"] as? Bool == true)
            let fields = try #require(entry["fields"] as? [String: String])
            #expect(fields["moderation"] == nil)  // the SDK's multipart edit has no moderation
            #expect(fields["input_fidelity"] == nil)
            let stats = try await h.get("/_standin/stats")
            let counts = try JSONSerialization.jsonObject(with: Data(stats.body.readableBytesView)) as! [String: Int]
            #expect(counts == ["calls": 1, "generations": 0, "edits": 1])
        }
    }

    actor Partials {
        var indices: [Int] = []
        var sizes: [Int] = []
        func add(_ partial: ProviderPartialImage) {
            indices.append(partial.index)
            sizes.append(partial.data.count)
        }
    }

    @Test func streamingDeliversPartialsThenTheImageAndUsage() async throws {
        try await Harness.run { h in
            let partials = Partials()
            let parameters = ImageParameters(
                prompt: "a lighthouse", model: "gpt-image-2", size: "1024x1024", quality: "low", outputFormat: "webp",
                partialImages: 2)
            let result = try await h.provider().run(ProviderRequest(parameters: parameters)) { await partials.add($0) }
            #expect(await partials.indices == [0, 1])
            #expect(await partials.sizes.allSatisfy { $0 > 0 })
            #expect(result.images.count == 1)
            #expect(result.images[0].starts(with: Array("RIFF".utf8)))
            #expect(result.usage?.outputImageTokens == 200 + 2 * 100)
            #expect(result.requestID?.hasPrefix("req_") == true)

            let entry = try #require(try await h.recorded().first)
            let json = try #require(entry["json"] as? [String: Any])
            #expect(json["stream"] as? Bool == true)
            #expect(json["partial_images"] as? Int == 2)
            #expect((entry["headers"] as? [String: String])?["accept"] == "text/event-stream")
        }
    }

    @Test func streamingEditWithSeveralImages() async throws {
        try await Harness.run { h in
            let partials = Partials()
            let fields = ImagesRequestFields(
                prompt: "two variants", model: "gpt-image-2", n: 2, size: "1024x1024", quality: "low", partialImages: 1)
            let images = [
                ImageUpload(filename: "a.png", contentType: "image/png", data: try Self.png(32, 32, seed: 1)),
                ImageUpload(filename: "b.png", contentType: "image/png", data: try Self.png(32, 32, seed: 2)),
            ]
            let result = try await h.client().edit(fields, images: images) { partial in
                await partials.add(ProviderPartialImage(index: partial.index, data: partial.data))
            }
            #expect(result.images.count == 2)  // one completed event per image
            #expect(await partials.indices.count == 2)
            let entry = try #require(try await h.recorded().first)
            #expect((entry["fields"] as? [String: String])?["stream"] == "true")
        }
    }
}
