import Foundation
import Testing
@testable import ImageProcessing

@Suite("synthesize")
struct SynthesizeTests {
    @Test("exact size and format", arguments: ImageFormat.allCases)
    func sizeAndFormat(format: ImageFormat) throws {
        for (w, h) in [(1536, 1024), (1024, 1536), (17, 9)] {
            let data = try ImageProcessing.synthesize(width: w, height: h, format: format, seed: 42)
            #expect(try ImageProcessing.probe(data) == ImageInfo(format: format, width: w, height: h, hasAlpha: false))
        }
    }

    @Test("same seed → same bytes; different seed → visibly different", arguments: ImageFormat.allCases)
    func determinism(format: ImageFormat) throws {
        let a = try ImageProcessing.synthesize(width: 256, height: 160, format: format, seed: 1)
        let b = try ImageProcessing.synthesize(width: 256, height: 160, format: format, seed: 1)
        let c = try ImageProcessing.synthesize(width: 256, height: 160, format: format, seed: 2)
        #expect(a == b)
        #expect(a != c)
        let pa = try Pixels(a), pc = try Pixels(c)
        var total = 0
        for i in stride(from: 0, to: pa.bytes.count, by: 4) { total += abs(Int(pa.bytes[i]) - Int(pc.bytes[i])) }
        #expect(total / (pa.width * pa.height) > 10, "mean red difference should be large")
    }

    @Test("transparent gives alpha with some fully transparent pixels (PNG, WebP); JPEG stays opaque")
    func transparency() throws {
        for format in [ImageFormat.png, .webp] {
            let data = try ImageProcessing.synthesize(width: 200, height: 120, format: format, seed: 9, transparent: true)
            #expect(try ImageProcessing.probe(data).hasAlpha)
            let pixels = try Pixels(data)
            #expect(pixels.alpha(50, 30) == 0)  // centre of the clear disc
            #expect(pixels.alpha(199, 119) < 255)  // the half-transparent band
        }
        let jpeg = try ImageProcessing.synthesize(width: 64, height: 64, format: .jpeg, seed: 9, transparent: true)
        #expect(try ImageProcessing.probe(jpeg).hasAlpha == false)
    }

    @Test("compression is the JPEG/WebP quality")
    func quality() throws {
        let low = try ImageProcessing.synthesize(width: 512, height: 512, format: .jpeg, seed: 5, compression: 10)
        let high = try ImageProcessing.synthesize(width: 512, height: 512, format: .jpeg, seed: 5, compression: 95)
        #expect(low.count < high.count)
    }

    @Test("invalid size is refused")
    func invalidSize() {
        guard case .sizeMismatch? = imageError({ _ = try ImageProcessing.synthesize(width: 0, height: 5, format: .png, seed: 0) }) else {
            Issue.record("expected sizeMismatch"); return
        }
    }
}

@Suite("thumbnail")
struct ThumbnailTests {
    @Test("WebP, longest edge 384, aspect kept")
    func sizes() throws {
        for (w, h, tw, th) in [(1536, 1024, 384, 256), (1024, 1536, 256, 384), (1024, 1024, 384, 384)] {
            let source = try ImageProcessing.synthesize(width: w, height: h, format: .png, seed: 3)
            let thumb = try ImageProcessing.thumbnail(source)
            #expect(try ImageProcessing.probe(thumb) == ImageInfo(format: .webp, width: tw, height: th, hasAlpha: false))
            #expect(thumb.count < source.count)
        }
    }

    @Test("small images are not upscaled; alpha survives")
    func noUpscale() throws {
        let source = try ImageProcessing.synthesize(width: 200, height: 100, format: .png, seed: 3, transparent: true)
        let thumb = try ImageProcessing.thumbnail(source)
        #expect(try ImageProcessing.probe(thumb) == ImageInfo(format: .webp, width: 200, height: 100, hasAlpha: true))
        let custom = try ImageProcessing.thumbnail(source, longestEdge: 50)
        #expect(try ImageProcessing.probe(custom) == ImageInfo(format: .webp, width: 50, height: 25, hasAlpha: true))
    }

    @Test("JPEG input and EXIF orientation are honoured")
    func jpegOriented() throws {
        let jpeg = try ImageProcessing.synthesize(width: 800, height: 400, format: .jpeg, seed: 4)
        let tagged = try ImageProcessing.settingOrientation(jpeg, to: 6)
        #expect(
            try ImageProcessing.probe(try ImageProcessing.thumbnail(tagged))
                == ImageInfo(format: .webp, width: 192, height: 384, hasAlpha: false))
    }
}

@Suite("thumbnail from a file")
struct FileThumbnailTests {
    func write(_ data: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thumb-\(UUID().uuidString)").path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("same bytes as the in-memory thumbnail, orientation honoured")
    func sameAsBuffer() throws {
        let png = try ImageProcessing.synthesize(width: 1536, height: 1024, format: .png, seed: 9)
        let jpeg = try ImageProcessing.settingOrientation(
            try ImageProcessing.synthesize(width: 800, height: 400, format: .jpeg, seed: 4), to: 6)
        for source in [png, jpeg] {
            let path = try write(source)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(try ImageProcessing.thumbnail(fileAt: path) == (try ImageProcessing.thumbnail(source)))
        }
    }

    @Test("truncated files and decompression bombs are refused")
    func refusals() throws {
        let png = try ImageProcessing.synthesize(width: 200, height: 200, format: .png, seed: 3)
        let half = try write(png.prefix(png.count / 2))
        let bomb = try write(Fixtures.pngHeaderOnly(width: 60000, height: 60000))
        defer { [half, bomb].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        guard case .corrupt? = imageError({ _ = try ImageProcessing.thumbnail(fileAt: half) }) else {
            Issue.record("half a PNG should not thumbnail"); return
        }
        #expect(
            imageError { _ = try ImageProcessing.thumbnail(fileAt: bomb) } == .tooManyPixels(width: 60000, height: 60000, limit: 50_000_000)
        )
        guard case .corrupt? = imageError({ _ = try ImageProcessing.thumbnail(fileAt: "/nonexistent/x.png") }) else {
            Issue.record("a missing file should be an error"); return
        }
    }
}

@Suite("concurrency")
struct ConcurrencyTests {
    @Test("parallel calls from many tasks agree with serial results")
    func parallel() async throws {
        let expected = try ImageProcessing.synthesize(width: 320, height: 240, format: .png, seed: 77)
        let expectedThumb = try ImageProcessing.thumbnail(expected, longestEdge: 100)
        try await withThrowingTaskGroup(of: (Data, Data).self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let image = try ImageProcessing.synthesize(width: 320, height: 240, format: .png, seed: 77)
                    return (image, try ImageProcessing.thumbnail(image, longestEdge: 100))
                }
            }
            for try await (image, thumb) in group {
                #expect(image == expected)
                #expect(thumb == expectedThumb)
            }
        }
    }
}
