import CVipsShim
import struct Foundation.Data  // Foundation is used for `Data` only.

extension ImageProcessing {
    /// A deterministic synthetic picture: a smooth two-axis colour gradient plus a few filled circles
    /// and rectangles, all derived from `seed` (same seed → same bytes; different seed → visibly different).
    /// Exactly `width`×`height`, encoded as `format`. `compression` is the JPEG/WebP quality 0-100
    /// (nil = 75); for PNG it is ignored (zlib level 1 is used for speed).
    /// `transparent` adds an alpha channel with a fully transparent disc and a half-transparent band
    /// (PNG/WebP only; ignored for JPEG, which has no alpha).
    public static func synthesize(
        width: Int, height: Int, format: ImageFormat, seed: UInt64, transparent: Bool = false, compression: Int? = nil
    ) throws -> Data {
        guard width > 0, height > 0 else {
            throw ImageProcessingError.sizeMismatch("a synthetic image needs a positive size, not \(width)×\(height)")
        }
        try Vips.checkBudget(width: width, height: height, maxPixels: defaultMaxPixels)
        var rng = SplitMix64(seed: seed)
        let alpha = transparent && format != .jpeg

        // (x, y, 1) → RGB via a 3×3 recombination: channel = base + ampX·x/width + ampY·y/height.
        let xy1 = try VipsImageHandle.make("xyz") { atelier_xyz(Int32(width), Int32(height), $0) }.bandjoin(constant: 1)
        var matrix: [Double] = []
        for _ in 0..<3 {
            matrix += [rng.unit(0...150) / Double(width), rng.unit(0...150) / Double(height), rng.unit(20...100)]
        }
        let gradient = try VipsImageHandle.make("recomb") { out in
            matrix.withUnsafeBufferPointer { atelier_recomb(xy1.pointer, $0.baseAddress, 3, 3, out) }
        }
        var base = try gradient.castUChar().interpretation(VIPS_INTERPRETATION_sRGB)
        if alpha { base = try base.bandjoin(constant: 255) }
        let canvas = try base.copiedToMemory()

        let short = Double(min(width, height))
        func ink(_ opacity: Double = 255) -> [Double] {
            let rgb = (0..<3).map { _ in rng.unit(0...255).rounded() }
            return alpha ? rgb + [opacity] : rgb
        }
        for shape in 0..<4 {
            let colour = ink()
            let cx = Int32(rng.unit(0...Double(width))), cy = Int32(rng.unit(0...Double(height)))
            let size = rng.unit(0.06...0.22) * short
            let status = colour.withUnsafeBufferPointer { inkBuffer in
                if shape.isMultiple(of: 2) {
                    atelier_draw_circle(canvas.pointer, inkBuffer.baseAddress, Int32(inkBuffer.count), cx, cy, Int32(max(size, 1)))
                } else {
                    atelier_draw_rect(
                        canvas.pointer, inkBuffer.baseAddress, Int32(inkBuffer.count),
                        cx - Int32(size), cy - Int32(size / 2), Int32(max(size * 2, 1)), Int32(max(size, 1)))
                }
            }
            guard status == 0 else { throw ImageProcessingError.corrupt(Vips.takeError(fallback: "drawing failed")) }
        }
        if alpha {
            // A clear disc in the top-left quadrant and a half-transparent band along the bottom.
            let hole = ink(0), band = ink(128)
            let r = Int32(max(short * 0.15, 1))
            let holeStatus = hole.withUnsafeBufferPointer {
                atelier_draw_circle(canvas.pointer, $0.baseAddress, 4, Int32(width / 4), Int32(height / 4), r)
            }
            let bandStatus = band.withUnsafeBufferPointer {
                atelier_draw_rect(
                    canvas.pointer, $0.baseAddress, 4, 0, Int32(height - max(height / 8, 1)), Int32(width), Int32(max(height / 8, 1)))
            }
            guard holeStatus == 0, bandStatus == 0 else {
                throw ImageProcessingError.corrupt(Vips.takeError(fallback: "drawing failed"))
            }
        }
        return try Vips.encode(canvas, as: format, quality: compression, pngCompression: 1)
    }

    /// Gaussian noise (mean 128, sigma 40, RGB) from libvips: a worst case for compression, used by benchmarks.
    /// `grain` > 1 makes noise cells about `grain` px wide (noise made at 1/grain size, then upscaled),
    /// so the texture survives downscaling like real detail does.
    public static func synthesizeNoise(width: Int, height: Int, format: ImageFormat, seed: Int32 = 0, grain: Int = 1) throws -> Data {
        guard width > 0, height > 0, grain > 0 else {
            throw ImageProcessingError.sizeMismatch("noise needs a positive size and grain")
        }
        try Vips.checkBudget(width: width, height: height, maxPixels: defaultMaxPixels)
        let smallWidth = max(1, width / grain), smallHeight = max(1, height / grain)
        var bands: [VipsImageHandle] = []
        for channel in 0..<3 {
            bands.append(
                try VipsImageHandle.make("gaussnoise") {
                    atelier_gaussnoise(Int32(smallWidth), Int32(smallHeight), 40, 128, seed &+ Int32(channel), $0)
                })
        }
        let rgb = try bands[0].bandjoin(bands[1]).bandjoin(bands[2]).castUChar().interpretation(VIPS_INTERPRETATION_sRGB)
        return try Vips.encode(try rgb.resized(toWidth: width, height: height), as: format)
    }
}
