import CVips
import CVipsShim
import Foundation

extension ImageProcessing {
    /// Quality used for WebP thumbnails.
    static let thumbnailQuality: Int32 = 75

    /// WebP thumbnail whose longest edge is `longestEdge` (never upscaled), EXIF orientation
    /// applied, metadata stripped. Uses vips_thumbnail_buffer (shrink-on-load for JPEG/WebP).
    public static func thumbnail(_ data: Data, longestEdge: Int = 384) throws -> Data {
        guard longestEdge > 0 else { throw ImageProcessingError.sizeMismatch("the thumbnail edge must be positive") }
        // Magic + pixel budget first: vips_thumbnail_buffer would otherwise accept any format libvips knows.
        _ = try Vips.header(data, maxPixels: defaultMaxPixels)
        return try makeThumbnail { buffer, length in
            data.withUnsafeBytes {
                atelier_thumbnail_webp($0.baseAddress, $0.count, Int32(clamping: longestEdge), thumbnailQuality, &buffer, &length)
            }
        }
    }

    /// The same thumbnail, with libvips reading the image from a file as it goes: the encoded image is never
    /// loaded into memory (the worker thumbnails stored outputs this way).
    public static func thumbnail(fileAt path: String, longestEdge: Int = 384) throws -> Data {
        guard longestEdge > 0 else { throw ImageProcessingError.sizeMismatch("the thumbnail edge must be positive") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageProcessingError.corrupt("cannot open \(path)") }
        let prefix = (try? handle.read(upToCount: 256 << 10)) ?? Data()
        try? handle.close()
        do throws(ImageProcessingError) {
            _ = try Vips.header(prefix, maxPixels: defaultMaxPixels)
        } catch {
            if case .tooManyPixels = error { throw error }
            // The dimensions may lie past the prefix (a JPEG with large metadata): check the whole file instead.
            return try thumbnail(Data(contentsOf: URL(fileURLWithPath: path)), longestEdge: longestEdge)
        }
        return try makeThumbnail { buffer, length in
            atelier_thumbnail_webp_file(path, Int32(clamping: longestEdge), thumbnailQuality, &buffer, &length)
        }
    }

    private static func makeThumbnail(
        _ run: (inout UnsafeMutableRawPointer?, inout Int) -> Int32
    ) throws -> Data {
        Vips.ensureStarted()
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let status = run(&buffer, &length)
        guard status == 0, let buffer else {
            if let buffer { g_free(buffer) }
            throw ImageProcessingError.corrupt(Vips.takeError(fallback: "thumbnail failed"))
        }
        defer { g_free(buffer) }
        return Data(bytes: buffer, count: length)
    }
}
