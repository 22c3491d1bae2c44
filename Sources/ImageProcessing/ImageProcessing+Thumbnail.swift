import CVips
import CVipsShim
import struct Foundation.Data  // Foundation is used for `Data` only.

extension ImageProcessing {
    /// Quality used for WebP thumbnails.
    static let thumbnailQuality: Int32 = 75

    /// WebP thumbnail whose longest edge is `longestEdge` (never upscaled), EXIF orientation
    /// applied, metadata stripped. Uses vips_thumbnail_buffer (shrink-on-load for JPEG/WebP).
    public static func thumbnail(_ data: Data, longestEdge: Int = 384) throws -> Data {
        guard longestEdge > 0 else { throw ImageProcessingError.sizeMismatch("the thumbnail edge must be positive") }
        // Magic + pixel budget first: vips_thumbnail_buffer would otherwise accept any format libvips knows.
        _ = try Vips.header(data, maxPixels: defaultMaxPixels)
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
}
