import Foundation
import ImageProcessing
import Testing

/// Outputs that are not plain rasters: animated GIFs (made with libvips' cgif encoder) and SVG documents.
@Suite struct OutputMediaTests {
    static func frames(_ count: Int, width: Int = 96, height: Int = 64) throws -> [Data] {
        try (0..<count).map { try ImageProcessing.synthesize(width: width, height: height, format: .png, seed: UInt64($0 + 1)) }
    }

    @Test func anAnimatedGifHasEveryFrameAtTheFrameSize() throws {
        let gif = try ImageProcessing.animatedGIF(frames: try Self.frames(5), frameDurationMs: 150)
        #expect(gif.starts(with: Array("GIF89a".utf8)))
        #expect(try ImageProcessing.probeOutput(gif) == OutputInfo(format: "gif", width: 96, height: 64, frames: 5))
        let thumb = try ImageProcessing.outputThumbnail(gif, longestEdge: 48)
        let info = try ImageProcessing.probe(thumb)
        #expect(info.format == .webp && info.width == 48 && info.height == 32)
    }

    @Test func framesOfDifferentSizesAreRefused() throws {
        let mixed = try Self.frames(1) + [try ImageProcessing.synthesize(width: 10, height: 10, format: .png, seed: 9)]
        #expect(throws: ImageProcessingError.self) { try ImageProcessing.animatedGIF(frames: mixed, frameDurationMs: 100) }
    }

    @Test func anSvgIsMeasuredAndRasterisedForItsThumbnail() throws {
        let svg = Data(
            """
            <?xml version="1.0"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"><rect width="800" height="400" fill="#f00"/></svg>
            """.utf8)
        #expect(try ImageProcessing.probeOutput(svg) == OutputInfo(format: "svg", width: 800, height: 400, frames: 1))
        #expect(OutputInfo.mimeType("svg") == "image/svg+xml" && OutputInfo.mimeType("gif") == "image/gif")
        let thumb = try ImageProcessing.probe(try ImageProcessing.outputThumbnail(svg, longestEdge: 200))
        #expect(thumb.width == 200 && thumb.height == 100)
    }

    @Test func uploadsStillTakeRastersOnly() throws {
        let svg = Data(#"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>"#.utf8)
        let gif = try ImageProcessing.animatedGIF(frames: try Self.frames(2), frameDurationMs: 100)
        for data in [svg, gif] {
            #expect(throws: ImageProcessingError.unsupportedFormat) { try ImageProcessing.probe(data) }
            #expect(throws: ImageProcessingError.unsupportedFormat) { try ImageProcessing.thumbnail(data) }
        }
        #expect(throws: ImageProcessingError.self) { try ImageProcessing.probeOutput(Data("<html><svg".utf8) + Data(count: 3)) }
    }
}
