import CVips
import CVipsShim
import Foundation  // for `Data` and `exp` only.

extension ImageProcessing {
    /// Hard-mask guarantee. `mask` is any mask `prepareMask` accepts (alpha 0 = edit; without alpha,
    /// black = edit), resized to the original's size (same ±1% aspect rule). `edited` is resized to
    /// the original's size (and given/losing alpha to match it) first.
    ///
    /// Feather semantics — INWARD ONLY: the edit region is the mask thresholded at 50%. Every pixel
    /// outside it is byte-identical to the original (after decode), whatever `featherRadius` is.
    /// Inside, the edited image's weight ramps (Gaussian profile, σ = r/2, kernel cut at exactly r)
    /// from ~0 at the boundary to exactly 100% at `featherRadius` px in, so pixels deeper than
    /// `featherRadius` equal the edited image exactly. Regions narrower than 2×featherRadius never
    /// reach full strength. featherRadius 0 = hard cut.
    ///
    /// Also returns a "changed pixels" map: an RGBA PNG at the original's size, transparent where the
    /// raw (resized) `edited` ≈ original (max channel difference ≤ 8), magenta (255,0,255) at alpha 160
    /// where it changed. The composite is encoded as `format` (JPEG flattens alpha onto white).
    public static func compositePreservingUnmasked(
        original: Data, edited: Data, mask: Data, featherRadius: Int, format: ImageFormat
    ) throws -> (composite: Data, changes: Data) {
        let base = try Vips.load(original).image.srgb8()
        let width = base.width, height = base.height

        var edit = try Vips.load(edited).image.srgb8().resized(toWidth: width, height: height)
        if base.hasAlpha, !edit.hasAlpha {
            edit = try edit.bandjoin(constant: 255)
        } else if !base.hasAlpha, edit.hasAlpha {
            edit = try edit.flattened(r: 255, g: 255, b: 255)
        }

        let maskImage = try Vips.load(mask).image
        try checkMaskShape(maskImage, baseWidth: width, baseHeight: height)
        let keep = try maskAlpha(maskImage, width: width, height: height, editColor: .black)
        let region = try keep.moreEq(128).inverted()  // 255 = edit
        let weight = try featheredWeight(region, radius: featherRadius)

        let composite = try weight.select(edit, base, blend: true)
        let compositeData = try Vips.encode(composite, as: format, strip: false)

        let changed = try edit.subtract(base).absolute().more(8).bandOr()  // 255 where any channel moved > 8
        let zero = try VipsImageHandle.make("black") { atelier_black(Int32(width), Int32(height), 1, $0) }.castUChar()
        let map = try changed.bandjoin(zero).bandjoin(changed).bandjoin(try changed.and(constant: 160))
            .interpretation(VIPS_INTERPRETATION_sRGB)
        return (compositeData, try Vips.encode(map, as: .png))
    }

    /// Weight 0…255 of the edited image: 0 outside `region`, ramping inward to exactly 255 at `radius` px.
    static func featheredWeight(_ region: VipsImageHandle, radius: Int) throws(ImageProcessingError) -> VipsImageHandle {
        guard radius > 0 else { return region }
        let r = min(radius, 512)
        let sigma = Double(r) / 2
        // Kernel of width 2r+1: the blur never reaches farther than r, and a full window gives 255 (± float error).
        let kernel = (-r...r).map { i in exp(-Double(i * i) / (2 * sigma * sigma)) }
        let blurred = try region.convolvedSeparable(kernel)  // float: ≈127.5 on the boundary, ≈255 at ≥ r inside
        // 2b − 254: the +1 of headroom absorbs float error so depth ≥ r gives exactly 255 (cast clips and truncates).
        let ramp = try blurred.linear(2, -254).castUChar()  // ~1 at the boundary → 255 at depth r
        return try ramp.and(region)  // outside the region: exactly 0
    }
}
