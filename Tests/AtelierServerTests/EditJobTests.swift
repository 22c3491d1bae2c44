import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Testing
import Vapor
import VaporTesting

/// Edit jobs end to end with the fake upstream: hard masks, auto-mask, re-using stored images.
@Suite struct EditJobTests {
    /// A 1024² alpha mask, transparent (edit here) inside the square 384..<640.
    static func centreMask() throws -> Data {
        var pixels = [UInt8](repeating: 255, count: 1024 * 1024 * 4)
        for y in 384..<640 { for x in 384..<640 { pixels[(y * 1024 + x) * 4 + 3] = 0 } }
        return try ImageProcessing.encode(pixels: pixels, width: 1024, height: 1024, channels: 4, format: .png)
    }

    @Test func pixelsOutsideTheMaskAndItsFeatherAreExactlyTheOriginal() async throws {
        let original = try ImageProcessing.synthesize(width: 1024, height: 1024, format: .png, seed: 99)
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            var body = MultipartBody()
            body.field("prompt", "put a moon in the square")
            body.field("size", "1024x1024")
            body.field("feather", "6")
            body.file("image", filename: "base.png", original)
            body.file("mask", filename: "mask.png", try Self.centreMask())
            let created = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
            let id = try #require(created.json["id"] as? String, "\(created.json)")
            try await app.drainJobs(app.makeJobWorker())
            let job = try await app.send(.GET, "v1/jobs/\(id)").json
            #expect(job["status"] as? String == "succeeded", "\(job)")
            // images holds the outputs only (images[0] is the result); the raw output and changes map are extras
            let images = try #require(job["images"] as? [[String: Any]])
            #expect(images.map { $0["role"] as? String } == ["output"])
            let output = images[0]
            let extras = try #require(job["extras"] as? [[String: Any]])
            let raw = try #require(extras.first { $0["role"] as? String == "raw" })
            #expect(extras.contains { $0["role"] as? String == "changes" })
            let composite = try ImageProcessing.rgbaPixels(
                Data(try await app.send(.GET, String((output["url"] as! String).dropFirst())).body.readableBytesView))
            let edited = try ImageProcessing.rgbaPixels(
                Data(try await app.send(.GET, String((raw["url"] as! String).dropFirst())).body.readableBytesView))
            let base = try ImageProcessing.rgbaPixels(original)
            var outsideDifference = 0
            var insideDifference = 0
            for y in 0..<1024 {
                for x in 0..<1024 {
                    let inside = (384..<640).contains(x) && (384..<640).contains(y)
                    let deepInside = (384 + 6..<640 - 6).contains(x) && (384 + 6..<640 - 6).contains(y)
                    for c in 0..<4 {
                        let i = (y * 1024 + x) * 4 + c
                        if !inside { outsideDifference = max(outsideDifference, abs(Int(composite.pixels[i]) - Int(base.pixels[i]))) }
                        if deepInside { insideDifference = max(insideDifference, abs(Int(composite.pixels[i]) - Int(edited.pixels[i]))) }
                    }
                }
            }
            #expect(outsideDifference == 0)
            #expect(insideDifference == 0)
        }
    }

    @Test func autoMaskMakesAnAlphaMaskOfTheInputSizeUsableAsMaskID() async throws {
        let provider = FakeImageProvider()
        let photo = try ImageProcessing.synthesize(width: 1536, height: 1024, format: .jpeg, seed: 5)
        try await withTestApp(overrides: .init(provider: provider)) { app in
            var body = MultipartBody()
            body.field("subject", "the red ball")
            body.field("size", "1536x1024")
            body.file("image", filename: "photo.jpg", contentType: "image/jpeg", photo)
            let created = try await app.send(.POST, "v1/mask/auto", headers: body.headers, body: body.buffer)
            #expect(created.status == .accepted, "\(created.json)")
            let id = try #require(created.json["id"] as? String)
            try await app.drainJobs(app.makeJobWorker())
            let job = try await app.send(.GET, "v1/jobs/\(id)").json
            #expect(job["kind"] as? String == "mask")
            let mask = try #require((job["images"] as? [[String: Any]])?.first)
            #expect(mask["width"] as? Int == 1536 && mask["height"] as? Int == 1024 && mask["format"] as? String == "png")
            let prompt = try #require(await provider.requests.first?.parameters.prompt)
            #expect(prompt.contains("the red ball"))
            // re-use: the photo's stored input and the mask, by id
            let input = try #require((job["inputs"] as? [[String: Any]])?.first?["id"] as? String)
            var edit = MultipartBody()
            edit.field("prompt", "make the ball blue")
            edit.field("image_id", input)
            edit.field("mask_id", try #require(mask["id"] as? String))
            let second = try await app.send(.POST, "v1/edit", headers: edit.headers, body: edit.buffer)
            #expect(second.status == .accepted, "\(second.json)")
            try await app.drainJobs(app.makeJobWorker())
            let sent = try #require(await provider.requests.last)
            #expect(sent.images.count == 1)
            let sentMask = try ImageProcessing.probe(try #require(sent.mask).bytes.load())
            #expect(sentMask.hasAlpha && sentMask.width == 1536)
        }
    }
}
