import CVips
import CVipsShim
import struct Foundation.Data  // Foundation is used for `Data` only.

extension ImageProcessing {
    /// Encodes raw 8-bit pixels (row-major; `channels` 1 = grey, 2 = grey+alpha, 3 = RGB, 4 = RGBA)
    /// through libvips. Handy for building exact fixtures such as masks.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int, format: ImageFormat) throws -> Data {
        guard width > 0, height > 0, (1...4).contains(channels), pixels.count == width * height * channels else {
            throw ImageProcessingError.sizeMismatch(
                "\(pixels.count) bytes do not make a \(width)×\(height) image with \(channels) channel(s)")
        }
        try Vips.checkBudget(width: width, height: height, maxPixels: defaultMaxPixels)
        let raw = try VipsImageHandle.make("new_from_memory") { out in
            out.pointee = pixels.withUnsafeBytes {
                vips_image_new_from_memory_copy($0.baseAddress, $0.count, Int32(width), Int32(height), Int32(channels), VIPS_FORMAT_UCHAR)
            }
            return out.pointee == nil ? -1 : 0
        }
        let image = try raw.interpretation(channels <= 2 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB)
        return try Vips.encode(image, as: format, quality: 90)
    }

    /// Test support: re-encodes `data` in its own format with the EXIF orientation tag set (pixels untouched).
    static func settingOrientation(_ data: Data, to orientation: Int) throws -> Data {
        let (image, format) = try Vips.load(data, autorotate: false)
        let tagged = try VipsImageHandle.make("copy") { atelier_copy_with_orientation(image.pointer, Int32(orientation), $0) }
        return try Vips.encode(tagged, as: format, quality: 95, strip: false)
    }
}
