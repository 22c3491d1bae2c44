import CVips
import CVipsShim
import struct Foundation.Data  // Foundation is used for `Data` only.

extension ImageProcessing {
    /// Turns a user mask into what the upstream wants: an RGBA PNG of exactly baseWidth×baseHeight,
    /// alpha 0 = edit here, 255 = keep.
    /// - A mask WITH alpha keeps its pixels (resized if needed, converted to 8-bit RGBA). A PNG that is
    ///   already 8-bit RGBA at the base size is returned untouched.
    /// - A mask WITHOUT alpha (greyscale or black/white, any format) is thresholded at 50% grey:
    ///   `editColor` pixels become alpha 0, the others alpha 255 (RGB is black).
    /// Same aspect ratio (±1%) but another size → resized; otherwise `maskAspectMismatch`.
    public static func prepareMask(_ data: Data, baseWidth: Int, baseHeight: Int, editColor: MaskEditColor = .black) throws -> Data {
        let (stored, format) = try Vips.load(data, autorotate: false)
        let mask = stored.orientation > 1 ? try stored.autorotated() : stored
        try checkMaskShape(mask, baseWidth: baseWidth, baseHeight: baseHeight)
        if mask.hasAlpha {
            if format == .png, stored.orientation <= 1, mask.width == baseWidth, mask.height == baseHeight,
                mask.bands == 4, vips_image_get_format(mask.pointer) == VIPS_FORMAT_UCHAR
            {
                return data
            }
            let rgba = try mask.rgba8().resized(toWidth: baseWidth, height: baseHeight)
            return try Vips.encode(rgba, as: .png)
        }
        let alpha = try maskAlpha(mask, width: baseWidth, height: baseHeight, editColor: editColor)
        return try Vips.encode(try alphaOnlyRGBA(alpha), as: .png)
    }

    /// For auto-mask: a black/white (or greyscale) subject matte → RGBA PNG mask of width×height
    /// (stretched to that size if needed) where the WHITE area (≥ 50% grey, the subject) gets
    /// alpha 0 (edit) and the rest alpha 255 (keep). A matte with alpha is flattened onto black first.
    public static func alphaMask(fromSubjectMatte data: Data, width: Int, height: Int) throws -> Data {
        guard width > 0, height > 0 else {
            throw ImageProcessingError.sizeMismatch("a mask needs a positive size, not \(width)×\(height)")
        }
        let (matte, _) = try Vips.load(data)
        let grey = try matte.grey8().resized(toWidth: width, height: height)
        let alpha = try grey.moreEq(128).inverted()
        return try Vips.encode(try alphaOnlyRGBA(alpha), as: .png)
    }

    // MARK: - internals shared with the composite

    static func checkMaskShape(_ mask: VipsImageHandle, baseWidth: Int, baseHeight: Int) throws(ImageProcessingError) {
        guard baseWidth > 0, baseHeight > 0 else {
            throw .sizeMismatch("the base image needs a positive size, not \(baseWidth)×\(baseHeight)")
        }
        let maskAspect = Double(mask.width) / Double(mask.height)
        let baseAspect = Double(baseWidth) / Double(baseHeight)
        if abs(maskAspect - baseAspect) / baseAspect > 0.01 {
            throw .maskAspectMismatch(maskWidth: mask.width, maskHeight: mask.height, baseWidth: baseWidth, baseHeight: baseHeight)
        }
    }

    /// One-band uchar "keep" alpha at width×height: 0 = edit, 255 = keep (alpha masks keep their soft values).
    static func maskAlpha(_ mask: VipsImageHandle, width: Int, height: Int, editColor: MaskEditColor) throws(ImageProcessingError)
        -> VipsImageHandle
    {
        if mask.hasAlpha {
            let rgba = try mask.rgba8()
            return try rgba.extractBand(3).resized(toWidth: width, height: height)
        }
        let grey = try mask.grey8().resized(toWidth: width, height: height)
        let light = try grey.moreEq(128)  // 255 where light, 0 where dark
        return editColor == .black ? light : try light.inverted()
    }

    /// RGBA with black colour and the given alpha band.
    static func alphaOnlyRGBA(_ alpha: VipsImageHandle) throws(ImageProcessingError) -> VipsImageHandle {
        let black = try VipsImageHandle.make("black") { atelier_black(Int32(alpha.width), Int32(alpha.height), 3, $0) }
        return try black.castUChar().bandjoin(alpha).interpretation(VIPS_INTERPRETATION_sRGB)
    }
}
