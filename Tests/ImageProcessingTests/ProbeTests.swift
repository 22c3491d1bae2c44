import Foundation
import Testing
@testable import ImageProcessing

@Suite("probe and orientation")
struct ProbeTests {
    @Test("each format is detected from bytes with correct dimensions", arguments: ImageFormat.allCases)
    func detectsFormat(format: ImageFormat) throws {
        let data = try ImageProcessing.synthesize(width: 300, height: 200, format: format, seed: 7)
        let info = try ImageProcessing.probe(data)
        #expect(info == ImageInfo(format: format, width: 300, height: 200, hasAlpha: false))
    }

    @Test("alpha is reported for PNG and WebP (VP8X)")
    func reportsAlpha() throws {
        for format in [ImageFormat.png, .webp] {
            let data = try ImageProcessing.synthesize(width: 64, height: 48, format: format, seed: 1, transparent: true)
            let info = try ImageProcessing.probe(data)
            #expect(info == ImageInfo(format: format, width: 64, height: 48, hasAlpha: true))
        }
    }

    @Test("garbage and empty data are unsupported")
    func garbage() {
        #expect(imageError { _ = try ImageProcessing.probe(Data("definitely not an image, just text".utf8)) } == .unsupportedFormat)
        #expect(imageError { _ = try ImageProcessing.probe(Data()) } == .unsupportedFormat)
        #expect(imageError { _ = try ImageProcessing.thumbnail(Data("GIF89a......".utf8)) } == .unsupportedFormat)
    }

    @Test("truncated PNG gives an honest corrupt error")
    func truncated() throws {
        let png = try ImageProcessing.synthesize(width: 200, height: 200, format: .png, seed: 3)
        guard case .corrupt? = imageError({ _ = try ImageProcessing.probe(png.prefix(20)) }) else {
            Issue.record("cut inside IHDR should be corrupt"); return
        }
        // Header intact but pixel data cut: decoding must fail rather than invent pixels.
        guard case .corrupt? = imageError({ _ = try ImageProcessing.rgbaPixels(png.prefix(png.count / 2)) }) else {
            Issue.record("half a PNG should not decode"); return
        }
        guard case .corrupt? = imageError({ _ = try ImageProcessing.thumbnail(png.prefix(png.count / 2)) }) else {
            Issue.record("half a PNG should not thumbnail"); return
        }
    }

    @Test("a 60000×60000 PNG header is refused before any pixel is allocated")
    func decompressionBomb() {
        let bomb = Fixtures.pngHeaderOnly(width: 60000, height: 60000)
        // The file is a header and nothing else: a decode would fail as `corrupt`, so `tooManyPixels` shows the
        // refusal came from the header, before any pixel was allocated (no wall-clock figure needed).
        #expect(bomb.count < 64)
        #expect(
            imageError { _ = try ImageProcessing.probe(bomb) }
                == .tooManyPixels(width: 60000, height: 60000, limit: ImageProcessing.defaultMaxPixels))
        #expect(imageError { _ = try ImageProcessing.thumbnail(bomb) } == .tooManyPixels(width: 60000, height: 60000, limit: 50_000_000))
        #expect(imageError { _ = try ImageProcessing.rgbaPixels(bomb) } == .tooManyPixels(width: 60000, height: 60000, limit: 50_000_000))
    }

    @Test("custom pixel limit applies")
    func customLimit() throws {
        let png = try ImageProcessing.synthesize(width: 100, height: 100, format: .png, seed: 3)
        #expect(imageError { _ = try ImageProcessing.probe(png, maxPixels: 9999) } == .tooManyPixels(width: 100, height: 100, limit: 9999))
        #expect(try ImageProcessing.probe(png, maxPixels: 10000).width == 100)
    }

    @Test("header parser reads lossless WebP (VP8L) and JPEG SOF dimensions")
    func headerParser() throws {
        // VP8L: signature 0x2F then 14-bit (width-1), 14-bit (height-1).
        let bits = UInt32(640 - 1) | (UInt32(480 - 1) << 14)
        var vp8l = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8L".utf8) + [0, 0, 0, 0, 0x2F]
        vp8l += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)] + [0, 0, 0, 0, 0]
        let header = try vp8l.withUnsafeBytes { try ImageHeader.parse($0) }
        #expect(header == ImageHeader(format: .webp, width: 640, height: 480))
        let jpeg = try ImageProcessing.synthesize(width: 123, height: 45, format: .jpeg, seed: 1)
        #expect(try jpeg.withUnsafeBytes { try ImageHeader.parse($0) } == ImageHeader(format: .jpeg, width: 123, height: 45))
    }

    /// 200×100 stored: left half red, right half blue.
    private func redBlue(format: ImageFormat) throws -> Data {
        try Fixtures.rgba(width: 200, height: 100, format: format) { x, _ in x < 100 ? [255, 0, 0, 255] : [0, 0, 255, 255] }
    }

    @Test("EXIF orientation 6 reports swapped size; normalizedOrientation returns upright pixels")
    func orientation6() throws {
        let tagged = try ImageProcessing.settingOrientation(try redBlue(format: .jpeg), to: 6)
        #expect(try ImageProcessing.probe(tagged) == ImageInfo(format: .jpeg, width: 100, height: 200, hasAlpha: false))

        let upright = try ImageProcessing.normalizedOrientation(tagged)
        #expect(upright != tagged)
        #expect(try ImageProcessing.probe(upright) == ImageInfo(format: .jpeg, width: 100, height: 200, hasAlpha: false))
        // Normalizing again is a no-op: the orientation tag is gone.
        #expect(try ImageProcessing.normalizedOrientation(upright) == upright)

        // Orientation 6 = rotate 90° clockwise to display: the stored left (red) half ends up on top.
        let pixels = try Pixels(upright)
        #expect((pixels.width, pixels.height) == (100, 200))
        let top = pixels[50, 40], bottom = pixels[50, 160]
        #expect(top[0] > 200 && top[2] < 60, "top should be red, got \(top)")
        #expect(bottom[2] > 200 && bottom[0] < 60, "bottom should be blue, got \(bottom)")
    }

    @Test("images without orientation come back untouched")
    func noOrientation() throws {
        for format in ImageFormat.allCases {
            let data = try ImageProcessing.synthesize(width: 40, height: 30, format: format, seed: 2)
            #expect(try ImageProcessing.normalizedOrientation(data) == data)
        }
    }
}
