import struct Foundation.Data  // Foundation is used for `Data` only.

/// Image work for Atelier over libvips: probing, orientation, synthesis, thumbnails, masks and
/// mask-preserving composites. Stateless and thread-safe; every entry point is static.
///
/// All functions work in DISPLAY orientation: EXIF orientation is applied on load (see `probe`).
/// All decoding and encoding goes through libvips; inputs must be PNG, JPEG or WebP by magic bytes.
public enum ImageProcessing {
    /// Default pixel budget (width × height) for any input, checked from the header before decoding.
    public static let defaultMaxPixels = 50_000_000

    /// Decoded RGBA pixels for tests/inspection: 8-bit sRGB, row-major, EXIF orientation applied
    /// (so the size matches `probe`). Alpha is 255 for images without an alpha channel.
    public static func rgbaPixels(_ data: Data) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let (image, _) = try Vips.load(data)
        let rgba = try image.rgba8()
        return (rgba.width, rgba.height, try rgba.bytes())
    }
}
