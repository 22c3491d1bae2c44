import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Testing
import Vapor
import VaporTesting

@Suite struct EditInputTests {
    static let png = try! ImageProcessing.synthesize(width: 1024, height: 1024, format: .png, seed: 3)

    /// Every file the blob store holds under the app's data folder.
    static func blobFiles(_ app: Application) -> [String] {
        let root = app.atelier.config.dataDirectory + "/blobs"
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter {
                !$0.hasSuffix("/")
                    && (try? FileManager.default.attributesOfItem(atPath: root + "/" + $0)[.type] as? FileAttributeType) == .typeRegular
            }
    }

    @Test func badInputsAreRefusedNamingTheFileAndNothingIsWritten() async throws {
        let provider = FakeImageProvider()
        let wrongAspectMask = try ImageProcessing.synthesize(width: 512, height: 256, format: .png, seed: 1)
        let seventeen = (0..<17).map { _ in Self.png }
        let cases: [(String, (inout MultipartBody) -> Void, String, Int)] = [
            (
                "garbage",
                {
                    $0.field("prompt", "x"); $0.file("image", filename: "a.png", BadImages.text)
                }, "image", 400
            ),
            (
                "gif",
                {
                    $0.field("prompt", "x"); $0.file("image", filename: "a.png", BadImages.gif)
                }, "image", 400
            ),
            (
                "bomb",
                {
                    $0.field("prompt", "x"); $0.file("image[]", filename: "big.png", BadImages.pngHeader(width: 60000, height: 60000));
                    $0.file("image[]", filename: "ok.png", Self.png)
                }, "image[0]", 400
            ),
            (
                "truncated",
                {
                    $0.field("prompt", "x"); $0.file("image", filename: "t.png", Self.png.prefix(200))
                }, "image", 400
            ),
            (
                "seventeen",
                { body in
                    body.field("prompt", "x"); for data in seventeen { body.file("image[]", filename: "i.png", data) }
                }, "image", 400
            ),
            ("no image", { $0.field("prompt", "x") }, "image", 400),
            ("no prompt", { $0.file("image", filename: "a.png", Self.png) }, "prompt", 400),
            (
                "mask aspect",
                {
                    $0.field("prompt", "x"); $0.file("image", filename: "a.png", Self.png);
                    $0.file("mask", filename: "m.png", wrongAspectMask)
                }, "mask", 400
            ),
            (
                "mask garbage",
                {
                    $0.field("prompt", "x"); $0.file("image", filename: "a.png", Self.png);
                    $0.file("mask", filename: "m.png", BadImages.text)
                }, "mask", 400
            ),
            (
                "markup model",
                {
                    $0.field("prompt", "x"); $0.field("model", "gpt-image-2"); $0.file("image", filename: "a.png", Self.png);
                    $0.file("markup", filename: "k.png", Self.png)
                }, "markup", 400
            ),
            (
                "fidelity",
                {
                    $0.field("prompt", "x"); $0.field("model", "gpt-image-2"); $0.field("input_fidelity", "high");
                    $0.file("image", filename: "a.png", Self.png)
                }, "input_fidelity", 400
            ),
            (
                "unknown image_id",
                {
                    $0.field("prompt", "x"); $0.field("image_id", UUID().uuidString)
                }, "image_id", 404
            ),
            (
                "bad n",
                {
                    $0.field("prompt", "x"); $0.field("n", "lots"); $0.file("image", filename: "a.png", Self.png)
                }, "n", 400
            ),
            (
                "preserve without mask",
                {
                    $0.field("prompt", "x"); $0.field("preserve_unmasked", "true"); $0.file("image", filename: "a.png", Self.png)
                }, "preserve_unmasked", 400
            ),
        ]
        try await withTestApp(overrides: .init(provider: provider)) { app in
            for (name, build, field, status) in cases {
                var body = MultipartBody()
                build(&body)
                let response = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
                #expect(response.status.code == UInt(status), "\(name): \(response.json)")
                #expect(response.errorField == field, "\(name): \(response.json)")
            }
            #expect(Self.blobFiles(app).isEmpty)
            #expect((try await app.send(.GET, "v1/jobs").json["data"] as? [Any])?.isEmpty == true)
            #expect(await provider.callCount == 0)
        }
    }

    @Test func nonAlphaMaskIsConvertedAndResizedToTheBaseImage() async throws {
        // setup: a greyscale-looking RGB mask at half size, black square = edit here
        var pixels = [UInt8](repeating: 255, count: 512 * 512 * 3)
        for y in 128..<256 { for x in 128..<256 { for c in 0..<3 { pixels[(y * 512 + x) * 3 + c] = 0 } } }
        let mask = try ImageProcessing.encode(pixels: pixels, width: 512, height: 512, channels: 3, format: .png)
        let provider = FakeImageProvider()
        try await withTestApp(overrides: .init(provider: provider)) { app in
            var body = MultipartBody()
            body.field("prompt", "replace the square")
            body.field("size", "1024x1024")
            body.file("image", filename: "base.png", Self.png)
            body.file("mask", filename: "mask.png", mask)
            // MUT
            let response = try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
            #expect(response.status == .accepted, "\(response.json)")
            try await app.drainJobs(app.makeJobWorker())
            // validate: what went upstream is a PNG with alpha at 1024², transparent inside the square only
            let sent = try #require(await provider.requests.first?.mask)
            let sentData = try sent.bytes.load()
            let info = try ImageProcessing.probe(sentData)
            #expect(info.format == .png && info.hasAlpha && info.width == 1024 && info.height == 1024)
            let rgba = try ImageProcessing.rgbaPixels(sentData)
            func alpha(_ x: Int, _ y: Int) -> UInt8 { rgba.pixels[(y * 1024 + x) * 4 + 3] }
            #expect(alpha(384, 384) == 0)
            #expect(alpha(50, 50) == 255)
            #expect(alpha(900, 900) == 255)
        }
    }
}
