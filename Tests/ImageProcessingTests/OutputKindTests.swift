import Foundation
import Testing

@testable import ImageProcessing

/// Which outputs are read as SVG: the quick refusal of binary images by their first byte decides exactly as the
/// reading of the text does.
@Suite struct OutputKindTests {
    @Test func binaryImagesAreNotTextAndSVGAfterAnyWhitespaceStillIs() throws {
        let png = try ImageProcessing.synthesize(width: 8, height: 8, format: .png, seed: 1)
        let webp = try ImageProcessing.synthesize(width: 8, height: 8, format: .webp, seed: 1)
        for binary in [png, webp, Data([0xFF, 0xD8, 0xFF]), Data()] { #expect(ImageProcessing.outputKind(binary) == nil) }
        let svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>"#
        for lead in ["", "\u{FEFF}", " \r\n\t", "\u{00A0}", "\u{0085}", "\u{1680}", "\u{2003}", "\u{2028}", "\u{205F}", "\u{3000}"] {
            #expect(ImageProcessing.outputKind(Data((lead + svg).utf8)) == .svg, "after \(lead.unicodeScalars.map(\.value))")
        }
        // Every first byte: SVG exactly when the reading of the text (the whole rule) says so.
        for byte in UInt8.min...UInt8.max {
            let data = Data([byte]) + Data(svg.utf8)
            let head = String(decoding: data, as: UTF8.self)
            let trimmed = (head.hasPrefix("\u{FEFF}") ? String(head.dropFirst()) : head).drop { $0.isWhitespace }
            let text = trimmed.hasPrefix("<") && trimmed.range(of: "<svg", options: .caseInsensitive) != nil
            #expect((ImageProcessing.outputKind(data) == .svg) == text, "first byte \(byte)")
        }
    }
}
