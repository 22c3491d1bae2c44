import CVips
import CVipsShim
import struct Foundation.Data  // Foundation is used for `Data` only.

/// Internal plumbing shared by the `ImageProcessing` entry points: start-up, errors, load, encode.
enum Vips {
    static func ensureStarted() {
        // g_once inside; cheap after the first call. A failed start surfaces as errors from each call.
        _ = atelier_vips_init()
    }

    /// Copies and clears the libvips error buffer, trimmed to something a log line can hold.
    static func takeError(fallback: String) -> String {
        guard let raw = atelier_vips_error_copy() else { return fallback }
        defer { g_free(raw) }
        let lines = String(cString: raw)
            .split(whereSeparator: \.isNewline)
            .map { line in line.drop { $0 == " " || $0 == "\t" } }
            .filter { !$0.isEmpty }
        let text = lines.prefix(3).joined(separator: "; ")
        if text.isEmpty { return fallback }
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    /// Sniffs the format, checks the pixel budget from the header bytes, then checks libvips' own header.
    static func header(_ data: Data, maxPixels: Int) throws(ImageProcessingError) -> ImageHeader {
        // Data.withUnsafeBytes is untyped-rethrows; carry the typed error out in a Result.
        let parsed = data.withUnsafeBytes { raw in
            Result { () throws(ImageProcessingError) in try ImageHeader.parse(raw) }
        }
        let header = try parsed.get()
        try checkBudget(width: header.width, height: header.height, maxPixels: maxPixels)
        return header
    }

    static func checkBudget(width: Int, height: Int, maxPixels: Int) throws(ImageProcessingError) {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > maxPixels {
            throw .tooManyPixels(width: width, height: height, limit: maxPixels)
        }
    }

    /// Decodes (lazily, random access) a PNG/JPEG/WebP, failing on truncation, upright unless `autorotate` is false.
    static func load(
        _ data: Data, maxPixels: Int = ImageProcessing.defaultMaxPixels, autorotate: Bool = true
    ) throws(ImageProcessingError) -> (image: VipsImageHandle, format: ImageFormat) {
        let header = try header(data, maxPixels: maxPixels)
        let image = try VipsImageHandle.make("load") { out in
            data.withUnsafeBytes { atelier_load($0.baseAddress, $0.count, header.format.shimFormat, 1, out) }
        }
        try checkBudget(width: image.width, height: image.height, maxPixels: maxPixels)
        if autorotate, image.orientation > 1 {
            return (try image.autorotated(), header.format)
        }
        return (image, header.format)
    }

    /// Encodes `image` as `format`. JPEG gets alpha flattened onto white. `quality` is 1-100 (nil = 75 / 6 for PNG zlib).
    static func encode(
        _ image: VipsImageHandle, as format: ImageFormat, quality: Int? = nil, pngCompression: Int? = nil, strip: Bool = true
    ) throws(ImageProcessingError) -> Data {
        var image = image
        if format == .jpeg, image.hasAlpha {
            image = try image.flattened(r: 255, g: 255, b: 255)
        }
        let q = Int32(clamping: quality.map { min(max($0, 1), 100) } ?? -1)
        let level = Int32(clamping: pngCompression.map { min(max($0, 0), 9) } ?? -1)
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let status = atelier_save(image.pointer, format.shimFormat, q, level, strip ? 1 : 0, &buffer, &length)
        guard status == 0, let buffer else {
            if let buffer { g_free(buffer) }
            throw .corrupt(takeError(fallback: "\(format.rawValue) encoding failed"))
        }
        defer { g_free(buffer) }
        return Data(bytes: buffer, count: length)
    }
}

extension VipsImageHandle {
    /// 8-bit sRGB with 3 bands, or 4 with alpha (greyscale, 16-bit and CMYK inputs are converted).
    func srgb8() throws(ImageProcessingError) -> VipsImageHandle {
        var image = try colourspace(VIPS_INTERPRETATION_sRGB)
        if vips_image_get_format(image.pointer) != VIPS_FORMAT_UCHAR {
            image = try image.castUChar()
        }
        return image
    }

    /// 8-bit sRGB RGBA (alpha 255 added when missing).
    func rgba8() throws(ImageProcessingError) -> VipsImageHandle {
        let image = try srgb8()
        return image.bands == 4 ? image : try image.bandjoin(constant: 255)
    }

    /// One-band 8-bit luminance (alpha flattened onto black first).
    func grey8() throws(ImageProcessingError) -> VipsImageHandle {
        var image = try srgb8()
        if image.hasAlpha { image = try image.flattened(r: 0, g: 0, b: 0) }
        return try image.colourspace(VIPS_INTERPRETATION_B_W).extractBand(0).castUChar()
    }

    /// Decodes all pixels into a byte array.
    func bytes() throws(ImageProcessingError) -> [UInt8] {
        var length = 0
        guard let raw = atelier_write_to_memory(pointer, &length) else {
            throw .corrupt(Vips.takeError(fallback: "decoding failed"))
        }
        defer { g_free(raw) }
        return Array(UnsafeRawBufferPointer(start: raw, count: length))
    }
}
