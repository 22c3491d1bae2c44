import CVips
import CVipsShim
import Foundation

/// What a stored output is: a raster (png/jpeg/webp), an animated GIF or an SVG document.
public struct OutputInfo: Sendable, Equatable {
    /// "png", "jpeg", "webp", "gif" or "svg".
    public let format: String
    public let width: Int
    public let height: Int
    /// Frames of a GIF; 1 otherwise.
    public let frames: Int

    public init(format: String, width: Int, height: Int, frames: Int) {
        self.format = format
        self.width = width
        self.height = height
        self.frames = frames
    }

    public var mimeType: String { Self.mimeType(format) }

    public static func mimeType(_ format: String) -> String {
        switch format {
        case "gif": "image/gif"
        case "svg": "image/svg+xml"
        default: ImageFormat(rawValue: format)?.mimeType ?? "application/octet-stream"
        }
    }
}

extension ImageProcessing {
    /// Largest SVG document accepted from the upstream.
    public static let maxSVGBytes = 16 << 20

    enum OutputKind { case gif, svg }

    /// First bytes of "<", of a BOM (EF) and of every character `Character.isWhitespace` accepts: ASCII 09–0D and
    /// 20, U+0085 and U+00A0 (C2), U+1680 (E1), U+2000–U+205F (E2), U+3000 (E3).
    static let textStarts: Set<UInt8> = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x3C, 0xC2, 0xE1, 0xE2, 0xE3, 0xEF]

    /// GIF by its magic; SVG when the text (after a BOM, XML declaration, comments or doctype) opens an `<svg` element.
    static func outputKind(_ data: Data) -> OutputKind? {
        if data.starts(with: Array("GIF87a".utf8)) || data.starts(with: Array("GIF89a".utf8)) { return .gif }
        // Only text can be SVG: a first byte that starts neither "<", a BOM nor any whitespace (PNG, JPEG, WebP)
        // ends here, without reading 4 KB of binary into a String (~1 % of the CPU of a 3 MB image's request).
        guard let first = data.first, Self.textStarts.contains(first) else { return nil }
        var head = String(decoding: data.prefix(4096), as: UTF8.self)
        if head.hasPrefix("\u{FEFF}") { head.removeFirst() }
        let trimmed = head.drop { $0.isWhitespace }
        guard trimmed.hasPrefix("<") else { return nil }
        return trimmed.range(of: "<svg", options: .caseInsensitive) != nil ? .svg : nil
    }

    /// Format and size of an output the upstream returned: GIF and SVG headers through libvips (frames counted, no
    /// pixels decoded), other formats through `probe`.
    public static func probeOutput(_ data: Data, maxPixels: Int = defaultMaxPixels) throws -> OutputInfo {
        guard let kind = outputKind(data) else {
            let info = try probe(data, maxPixels: maxPixels)
            return OutputInfo(format: info.format.rawValue, width: info.width, height: info.height, frames: 1)
        }
        if kind == .svg, data.count > maxSVGBytes {
            throw ImageProcessingError.corrupt("the SVG document is larger than \(maxSVGBytes >> 20) MB")
        }
        Vips.ensureStarted()
        var width: Int32 = 0, height: Int32 = 0, pages: Int32 = 0
        let status = data.withUnsafeBytes {
            atelier_probe_output($0.baseAddress, $0.count, kind == .svg ? 1 : 0, &width, &height, &pages)
        }
        guard status == 0 else {
            throw ImageProcessingError.corrupt(Vips.takeError(fallback: "could not read the \(kind) header"))
        }
        if kind == .gif { try Vips.checkBudget(width: Int(width), height: Int(height) * Int(pages), maxPixels: maxPixels * 16) }
        return OutputInfo(
            format: kind == .gif ? "gif" : "svg", width: Int(width), height: Int(height), frames: Int(max(pages, 1)))
    }

    /// A WebP thumbnail of any output: a GIF's first frame, an SVG rasterised by librsvg at thumbnail size,
    /// a raster as `thumbnail` makes it.
    public static func outputThumbnail(_ data: Data, longestEdge: Int = 384) throws -> Data {
        guard outputKind(data) != nil else { return try thumbnail(data, longestEdge: longestEdge) }
        _ = try probeOutput(data)
        Vips.ensureStarted()
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let status = data.withUnsafeBytes {
            atelier_thumbnail_webp($0.baseAddress, $0.count, Int32(clamping: longestEdge), thumbnailQuality, &buffer, &length)
        }
        guard status == 0, let buffer else {
            if let buffer { g_free(buffer) }
            throw ImageProcessingError.corrupt(Vips.takeError(fallback: "thumbnail failed"))
        }
        defer { g_free(buffer) }
        return Data(bytes: buffer, count: length)
    }

    /// The same from a stored file: GIF and SVG are read whole (bounded by `maxSVGBytes` and the pixel budget).
    public static func outputThumbnail(fileAt path: String, longestEdge: Int = 384) throws -> Data {
        let head =
            FileHandle(forReadingAtPath: path).flatMap { handle in
                defer { try? handle.close() }
                return try? handle.read(upToCount: 4096)
            } ?? Data()
        guard outputKind(head) != nil else { return try thumbnail(fileAt: path, longestEdge: longestEdge) }
        return try outputThumbnail(Data(contentsOf: URL(fileURLWithPath: path)), longestEdge: longestEdge)
    }

    /// An animated GIF (loops forever) of `frames` (encoded PNG/JPEG/WebP of one size), `frameDurationMs` each.
    public static func animatedGIF(frames: [Data], frameDurationMs: Int) throws -> Data {
        let images = try frames.map { try Vips.load($0).image.rgba8() }
        guard let first = images.first, images.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw ImageProcessingError.sizeMismatch("an animation needs one or more frames of the same size")
        }
        var pointers: [UnsafeMutablePointer<VipsImage>?] = images.map(\.pointer)
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let status = withExtendedLifetime(images) {
            pointers.withUnsafeMutableBufferPointer {
                atelier_gif_animate($0.baseAddress, Int32($0.count), Int32(clamping: frameDurationMs), &buffer, &length)
            }
        }
        guard status == 0, let buffer else {
            if let buffer { g_free(buffer) }
            throw ImageProcessingError.corrupt(Vips.takeError(fallback: "GIF encoding failed"))
        }
        defer { g_free(buffer) }
        return Data(bytes: buffer, count: length)
    }
}
