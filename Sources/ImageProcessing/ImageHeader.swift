/// Magic-byte sniffing plus the few header bytes that give the stored dimensions.
///
/// This is a pre-flight guard, not a codec: it lets `tooManyPixels` be thrown before libvips is
/// handed the data at all. Dimensions are as stored (before EXIF orientation).
struct ImageHeader: Equatable {
    let format: ImageFormat
    let width: Int
    let height: Int

    static func detectFormat(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        let b = Array(bytes.prefix(12))
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if b.count >= 12, b[0..<4].elementsEqual(Array("RIFF".utf8)), b[8..<12].elementsEqual(Array("WEBP".utf8)) {
            return .webp
        }
        return nil
    }

    /// Throws `.unsupportedFormat` for unknown magic, `.corrupt` when the header is cut short or invalid.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageProcessingError) -> ImageHeader {
        guard let format = detectFormat(bytes) else { throw .unsupportedFormat }
        let size: (Int, Int)?
        switch format {
        case .png: size = png(bytes)
        case .jpeg: size = jpeg(bytes)
        case .webp: size = webp(bytes)
        }
        guard let (width, height) = size, width > 0, height > 0 else {
            throw .corrupt("\(format.rawValue) header is truncated or invalid")
        }
        return ImageHeader(format: format, width: width, height: height)
    }

    private static func be(_ b: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= b.count else { return nil }
        return (0..<count).reduce(0) { ($0 << 8) | Int(b[at + $1]) }
    }

    private static func le(_ b: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= b.count else { return nil }
        return (0..<count).reversed().reduce(0) { ($0 << 8) | Int(b[at + $1]) }
    }

    /// Signature, then the IHDR chunk: length(4) "IHDR" width(4) height(4).
    private static func png(_ b: UnsafeRawBufferPointer) -> (Int, Int)? {
        guard b.count >= 24, be(b, 12, 4) == 0x4948_4452 else { return nil }  // "IHDR"
        guard let w = be(b, 16, 4), let h = be(b, 20, 4) else { return nil }
        return (w, h)
    }

    /// Walks the marker segments to the first SOFn frame header.
    private static func jpeg(_ b: UnsafeRawBufferPointer) -> (Int, Int)? {
        var i = 2
        while i + 1 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0x01 || (0xD0...0xD8).contains(marker) { i += 2; continue }  // no payload
            guard let length = be(b, i + 2, 2), length >= 2 else { return nil }
            let isSOF = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
            if isSOF {
                guard let h = be(b, i + 5, 2), let w = be(b, i + 7, 2) else { return nil }
                return (w, h)
            }
            if marker == 0xD9 || marker == 0xDA { return nil }  // EOI / scan data before any frame
            i += 2 + length
        }
        return nil
    }

    /// RIFF container: first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).
    private static func webp(_ b: UnsafeRawBufferPointer) -> (Int, Int)? {
        guard b.count >= 30 else { return nil }
        let chunk = String(decoding: UnsafeRawBufferPointer(rebasing: b[12..<16]), as: UTF8.self)
        switch chunk {
        case "VP8 ":
            guard b[23] == 0x9D, b[24] == 0x01, b[25] == 0x2A,
                let w = le(b, 26, 2), let h = le(b, 28, 2)
            else { return nil }
            return (w & 0x3FFF, h & 0x3FFF)
        case "VP8L":
            guard b[20] == 0x2F, let bits = le(b, 21, 4) else { return nil }
            return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            guard let w = le(b, 24, 3), let h = le(b, 27, 3) else { return nil }
            return (w + 1, h + 1)
        default:
            return nil
        }
    }
}
