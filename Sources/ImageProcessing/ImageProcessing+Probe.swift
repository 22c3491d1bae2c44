import CVipsShim
import struct Foundation.Data  // Foundation is used for `Data` only.

extension ImageProcessing {
    /// Format from magic bytes; size and alpha from the header only (no pixel decode).
    /// The pixel budget is checked from the raw header bytes BEFORE libvips sees the data, so a
    /// header claiming 60000×60000 throws `tooManyPixels` without allocating anything.
    /// Width/height are reported after EXIF orientation (swapped for orientations 5-8).
    public static func probe(_ data: Data, maxPixels: Int = defaultMaxPixels) throws -> ImageInfo {
        let header = try Vips.header(data, maxPixels: maxPixels)
        Vips.ensureStarted()
        var width: Int32 = 0, height: Int32 = 0, bands: Int32 = 0, alpha: Int32 = 0, orientation: Int32 = 1
        let status = data.withUnsafeBytes {
            atelier_probe($0.baseAddress, $0.count, header.format.shimFormat, &width, &height, &bands, &alpha, &orientation)
        }
        guard status == 0 else {
            throw ImageProcessingError.corrupt(Vips.takeError(fallback: "could not read the \(header.format.rawValue) header"))
        }
        try Vips.checkBudget(width: Int(width), height: Int(height), maxPixels: maxPixels)
        let swapped = (5...8).contains(orientation)
        return ImageInfo(
            format: header.format,
            width: Int(swapped ? height : width),
            height: Int(swapped ? width : height),
            hasAlpha: alpha != 0
        )
    }

    /// Applies EXIF orientation (vips_autorot) and re-encodes in the same format (JPEG/WebP at
    /// quality 92; metadata kept except the orientation tag). Returns `data` untouched when the
    /// orientation is absent or already 1.
    public static func normalizedOrientation(_ data: Data) throws -> Data {
        let (image, format) = try Vips.load(data, autorotate: false)
        guard image.orientation > 1 else { return data }
        let upright = try image.autorotated()
        return try Vips.encode(upright, as: format, quality: 92, strip: false)
    }
}
