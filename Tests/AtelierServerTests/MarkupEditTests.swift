import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Testing
import Vapor
import VaporTesting

/// Markup edits: a transparent PNG the size of the first image, for models with `supports_markup`, never with a
/// mask; sent upstream as the multipart part `markup`.
@Suite struct MarkupEditTests {
    /// A transparent canvas with an opaque red stroke, as the studio's markup layer exports it.
    static func markup(width: Int, height: Int) throws -> Data {
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        for x in 100..<300 { for y in 200..<206 { pixels[(y * width + x) * 4..<(y * width + x) * 4 + 4] = [230, 30, 30, 255] } }
        return try ImageProcessing.encode(pixels: pixels, width: width, height: height, channels: 4, format: .png)
    }

    static func form(model: String, markup: Data?, mask: Data? = nil) throws -> MultipartBody {
        var body = MultipartBody()
        body.field("prompt", "put a hat where the arrow points")
        body.field("model", model)
        body.file("image", filename: "in.png", try ImageProcessing.synthesize(width: 1024, height: 1024, format: .png, seed: 3))
        if let markup { body.file("markup", filename: "markup.png", markup) }
        if let mask { body.file("mask", filename: "mask.png", mask) }
        return body
    }

    @Test func markupReachesTheUpstreamAsItsOwnPartTheSizeOfTheFirstImage() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try UpstreamEndToEndTests.config(standIn)) { app in
                let body = try Self.form(model: "gpt-image-2.5-sunburst", markup: try Self.markup(width: 1024, height: 1024))
                let created = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
                #expect(created.status == .accepted, "\(created.json)")
                try await app.drainJobs(app.makeJobWorker())
                let job = try await app.send(.GET, "v1/jobs/\(try #require(created.json["id"] as? String))").json
                #expect(job["status"] as? String == "succeeded", "\(job)")
                #expect((job["inputs"] as? [[String: Any]])?.contains { $0["role"] as? String == "markup" } == true)
                let files = try #require(try await standIn.requests().last?["files"] as? [[String: Any]])
                let markup = try #require(files.first { $0["name"] as? String == "markup" })
                #expect(markup["content_type"] as? String == "image/png" && markup["has_alpha"] as? Bool == true)
                #expect(markup["width"] as? Int == 1024 && markup["height"] as? Int == 1024)
                #expect(!files.contains { $0["name"] as? String == "mask" })
            }
        }
    }

    @Test func markupIsRefusedWithAMaskAtAnotherSizeOrForAModelWithoutIt() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try UpstreamEndToEndTests.config(standIn)) { app in
                let right = try Self.markup(width: 1024, height: 1024)
                let cases: [(MultipartBody, String)] = [
                    (try Self.form(model: "gpt-image-2.5-flare", markup: right, mask: right), "markup"),
                    (try Self.form(model: "gpt-image-2.5-flare", markup: try Self.markup(width: 512, height: 512)), "markup"),
                    (try Self.form(model: "gpt-image-2", markup: right), "markup"),
                ]
                for (body, field) in cases {
                    let refused = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
                    #expect(refused.status == .badRequest && refused.errorField == field, "\(refused.json)")
                }
                #expect(try await standIn.stats()["edits"] as? Int ?? 0 == 0)
            }
        }
    }
}
