import CVips
import CVipsShim

/// RAII owner of one `VipsImage*` reference: unrefs in `deinit`.
///
/// libvips images are immutable, reference-counted and lazy; every operation wrapper below
/// returns a new handle, and the libvips graph keeps upstream images alive as needed, so
/// handles can be dropped in any order. Handles never escape a single public call.
final class VipsImageHandle {
    let pointer: UnsafeMutablePointer<VipsImage>

    private init(owning pointer: UnsafeMutablePointer<VipsImage>) {
        self.pointer = pointer
    }

    deinit {
        g_object_unref(pointer)
    }

    /// Runs a shim call that produces an image through an out-parameter; adopts the result or
    /// throws `.corrupt` with the libvips error text (unref'ing any half-made output).
    static func make(
        _ what: String,
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<VipsImage>?>) -> Int32
    ) throws(ImageProcessingError) -> VipsImageHandle {
        Vips.ensureStarted()
        var out: UnsafeMutablePointer<VipsImage>?
        let status = body(&out)
        guard status == 0, let out else {
            if let out { g_object_unref(out) }
            throw .corrupt(Vips.takeError(fallback: "\(what) failed"))
        }
        return VipsImageHandle(owning: out)
    }

    var width: Int { Int(vips_image_get_width(pointer)) }
    var height: Int { Int(vips_image_get_height(pointer)) }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    var orientation: Int { Int(atelier_get_orientation(pointer)) }

    // MARK: operations (each returns a new image)

    func autorotated() throws(ImageProcessingError) -> VipsImageHandle {
        try .make("autorot") { atelier_autorot(pointer, $0) }
    }

    func resized(h: Double, v: Double) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("resize") { atelier_resize(pointer, h, v, $0) }
    }

    /// Resizes to exactly `width`×`height` (aspect may change); a no-op when already that size.
    func resized(toWidth width: Int, height: Int) throws(ImageProcessingError) -> VipsImageHandle {
        if self.width == width && self.height == height { return self }
        var image = try resized(h: Double(width) / Double(self.width), v: Double(height) / Double(self.height))
        // vips_resize rounds; make the size exact by cropping or edge-extending by at most a pixel.
        if image.width != width || image.height != height {
            let source = image
            image = try .make("embed") { atelier_embed_copy(source.pointer, Int32(width), Int32(height), $0) }
        }
        return image
    }

    func colourspace(_ space: VipsInterpretation) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("colourspace") { atelier_colourspace(pointer, space, $0) }
    }

    func castUChar() throws(ImageProcessingError) -> VipsImageHandle {
        try .make("cast") { atelier_cast_uchar(pointer, $0) }
    }

    func extractBand(_ band: Int, count: Int = 1) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("extract_band") { atelier_extract_band(pointer, Int32(band), Int32(count), $0) }
    }

    func bandjoin(_ other: VipsImageHandle) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("bandjoin") { atelier_bandjoin2(pointer, other.pointer, $0) }
    }

    func bandjoin(constant: Double) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("bandjoin_const") { atelier_bandjoin_const1(pointer, constant, $0) }
    }

    func flattened(r: Double, g: Double, b: Double) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("flatten") { atelier_flatten(pointer, r, g, b, $0) }
    }

    func linear(_ a: Double, _ b: Double) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("linear") { atelier_linear1(pointer, a, b, $0) }
    }

    /// 255 where value ≥ c, else 0.
    func moreEq(_ c: Double) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("moreeq") { atelier_moreeq_const1(pointer, c, $0) }
    }

    /// 255 where value > c, else 0.
    func more(_ c: Double) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("more") { atelier_more_const1(pointer, c, $0) }
    }

    func inverted() throws(ImageProcessingError) -> VipsImageHandle {
        try .make("invert") { atelier_invert(pointer, $0) }
    }

    func and(_ other: VipsImageHandle) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("and") { atelier_and(pointer, other.pointer, $0) }
    }

    func and(constant: Double) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("and_const") { atelier_and_const1(pointer, constant, $0) }
    }

    func bandOr() throws(ImageProcessingError) -> VipsImageHandle {
        try .make("bandor") { atelier_bandor(pointer, $0) }
    }

    func subtract(_ other: VipsImageHandle) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("subtract") { atelier_subtract(pointer, other.pointer, $0) }
    }

    func absolute() throws(ImageProcessingError) -> VipsImageHandle {
        try .make("abs") { atelier_abs(pointer, $0) }
    }

    func interpretation(_ value: VipsInterpretation) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("copy") { atelier_copy_interpretation(pointer, value, $0) }
    }

    func convolvedSeparable(_ kernel: [Double]) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("convsep") { out in
            kernel.withUnsafeBufferPointer { atelier_convsep_float(pointer, $0.baseAddress, Int32($0.count), out) }
        }
    }

    /// `self` is the condition (1-band uchar): `then` where 255, `else` where 0, blended between.
    func select(_ then: VipsImageHandle, _ otherwise: VipsImageHandle, blend: Bool) throws(ImageProcessingError) -> VipsImageHandle {
        try .make("ifthenelse") { atelier_ifthenelse(pointer, then.pointer, otherwise.pointer, blend ? 1 : 0, $0) }
    }

    /// A private, writable, fully decoded copy (for in-place drawing).
    func copiedToMemory() throws(ImageProcessingError) -> VipsImageHandle {
        try .make("copy_memory") { out in
            out.pointee = vips_image_copy_memory(pointer)
            return out.pointee == nil ? -1 : 0
        }
    }
}
