import Foundation
import Testing
@testable import ImageProcessing

@Suite("masks")
struct MaskTests {
    /// 64×48 greyscale: left half black, right half white.
    private func halfMask(format: ImageFormat = .png) throws -> Data {
        try Fixtures.grey(width: 64, height: 48, format: format) { x, _ in x < 32 ? 0 : 255 }
    }

    @Test("greyscale mask → alpha with black = edit", arguments: [ImageFormat.png, .jpeg, .webp])
    func blackEdits(format: ImageFormat) throws {
        let out = try ImageProcessing.prepareMask(try halfMask(format: format), baseWidth: 64, baseHeight: 48)
        #expect(try ImageProcessing.probe(out) == ImageInfo(format: .png, width: 64, height: 48, hasAlpha: true))
        let p = try Pixels(out)
        #expect(p.alpha(5, 10) == 0)
        #expect(p.alpha(60, 10) == 255)
    }

    @Test("editColor white flips the polarity")
    func whiteEdits() throws {
        let out = try ImageProcessing.prepareMask(try halfMask(), baseWidth: 64, baseHeight: 48, editColor: .white)
        let p = try Pixels(out)
        #expect(p.alpha(5, 10) == 255)
        #expect(p.alpha(60, 10) == 0)
    }

    @Test("an alpha mask is kept and resized 512 → 1024")
    func alphaResized() throws {
        let mask = try Fixtures.rgba(width: 512, height: 512) { x, y in
            (128..<384).contains(x) && (128..<384).contains(y) ? [0, 0, 0, 0] : [255, 255, 255, 255]
        }
        let out = try ImageProcessing.prepareMask(mask, baseWidth: 1024, baseHeight: 1024)
        #expect(try ImageProcessing.probe(out) == ImageInfo(format: .png, width: 1024, height: 1024, hasAlpha: true))
        let p = try Pixels(out)
        #expect(p.alpha(512, 512) == 0)
        #expect(p.alpha(300, 300) == 0)
        #expect(p.alpha(100, 100) == 255)
        #expect(p.alpha(900, 512) == 255)
    }

    @Test("an RGBA PNG already at base size is returned untouched")
    func alphaUntouched() throws {
        let mask = try Fixtures.rgba(width: 32, height: 32) { x, _ in [0, 0, 0, x < 16 ? 0 : 255] }
        #expect(try ImageProcessing.prepareMask(mask, baseWidth: 32, baseHeight: 32) == mask)
    }

    @Test("a greyscale mask with the same aspect (±1%) but another size is resized")
    func greyResized() throws {
        let mask = try Fixtures.grey(width: 500, height: 500) { x, _ in x < 250 ? 0 : 255 }
        let out = try ImageProcessing.prepareMask(mask, baseWidth: 1010, baseHeight: 1000)
        let p = try Pixels(out)
        #expect((p.width, p.height) == (1010, 1000))
        #expect(p.alpha(100, 500) == 0 && p.alpha(900, 500) == 255)
    }

    @Test("wrong aspect → maskAspectMismatch")
    func aspectMismatch() throws {
        let mask = try Fixtures.grey(width: 512, height: 256) { _, _ in 0 }
        #expect(
            imageError { _ = try ImageProcessing.prepareMask(mask, baseWidth: 1024, baseHeight: 1024) }
                == .maskAspectMismatch(maskWidth: 512, maskHeight: 256, baseWidth: 1024, baseHeight: 1024))
        #expect(
            !ImageProcessingError.maskAspectMismatch(maskWidth: 512, maskHeight: 256, baseWidth: 1024, baseHeight: 1024).message.isEmpty)
    }

    @Test("subject matte → white becomes transparent, at the requested size")
    func subjectMatte() throws {
        // 100×50: white disc-ish square in the middle = subject.
        let matte = try Fixtures.grey(width: 100, height: 50, format: .jpeg) { x, y in
            (30..<70).contains(x) && (10..<40).contains(y) ? 255 : 0
        }
        let out = try ImageProcessing.alphaMask(fromSubjectMatte: matte, width: 200, height: 100)
        #expect(try ImageProcessing.probe(out) == ImageInfo(format: .png, width: 200, height: 100, hasAlpha: true))
        let p = try Pixels(out)
        #expect(p.alpha(100, 50) == 0)
        #expect(p.alpha(10, 10) == 255 && p.alpha(190, 90) == 255)
    }
}

@Suite("composite preserving unmasked pixels")
struct CompositeTests {
    static let w = 256, h = 192
    static let maskRect = (x: 64..<192, y: 48..<144)  // black = edit
    static let changedRect = (x: 96..<240, y: 80..<176)  // where `edited` really differs

    /// Original: synthetic RGB. Edited: original ±3 everywhere (below the change threshold) and shifted by 128 (mod 256) in `changedRect`.
    private func fixtures() throws -> (original: Data, edited: Data, mask: Data) {
        let original = try ImageProcessing.synthesize(width: Self.w, height: Self.h, format: .png, seed: 11)
        let o = try Pixels(original)
        let edited = try Fixtures.rgba(width: Self.w, height: Self.h) { x, y in
            let px = o[x, y]
            if Self.changedRect.x.contains(x), Self.changedRect.y.contains(y) { return [px[0] &+ 128, px[1] &+ 128, px[2] &+ 128, 255] }
            return [px[0] < 128 ? px[0] + 3 : px[0] - 3, px[1], px[2], 255]
        }
        let mask = try Fixtures.grey(width: Self.w, height: Self.h) { x, y in
            Self.maskRect.x.contains(x) && Self.maskRect.y.contains(y) ? 0 : 255
        }
        return (original, edited, mask)
    }

    @Test("outside the mask = original exactly; deep inside = edited exactly", arguments: [0, 6, 12])
    func hardMask(feather r: Int) throws {
        let (original, edited, mask) = try fixtures()
        let result = try ImageProcessing.compositePreservingUnmasked(
            original: original, edited: edited, mask: mask, featherRadius: r, format: .png)
        let out = try Pixels(result.composite), o = try Pixels(original), e = try Pixels(edited)
        #expect((out.width, out.height) == (Self.w, Self.h))
        let m = Self.maskRect
        // The contract: farther than r from the masked region → byte-identical (max difference 0 over ALL such pixels).
        let outsideBand = { (x: Int, y: Int) in
            !((m.x.lowerBound - r)..<(m.x.upperBound + r)).contains(x) || !((m.y.lowerBound - r)..<(m.y.upperBound + r)).contains(y)
        }
        #expect(out.maxDifference(o, where: outsideBand) == 0)
        // Inward feather: every pixel outside the mask is identical too.
        #expect(out.maxDifference(o, where: { !(m.x.contains($0) && m.y.contains($1)) }) == 0)
        // Deeper than r inside the mask: exactly the edited image.
        let deepInside = { (x: Int, y: Int) in
            ((m.x.lowerBound + r)..<(m.x.upperBound - r)).contains(x) && ((m.y.lowerBound + r)..<(m.y.upperBound - r)).contains(y)
        }
        #expect(out.maxDifference(e, where: deepInside) == 0)
        if r > 0 {
            // The seam is blended: the first masked column (inside the changed area) is neither edited nor original.
            let seam = out[m.x.upperBound - 1, 120], edit = e[m.x.upperBound - 1, 120]
            #expect(seam != edit)
        }
    }

    @Test("the changes map marks where raw `edited` moved by more than 8")
    func changesMap() throws {
        let (original, edited, mask) = try fixtures()
        let result = try ImageProcessing.compositePreservingUnmasked(
            original: original, edited: edited, mask: mask, featherRadius: 4, format: .webp)
        #expect(try ImageProcessing.probe(result.composite).format == .webp)
        #expect(try ImageProcessing.probe(result.changes) == ImageInfo(format: .png, width: Self.w, height: Self.h, hasAlpha: true))
        let changes = try Pixels(result.changes)
        let c = Self.changedRect
        var wrong = 0
        for y in 0..<Self.h {
            for x in 0..<Self.w {
                let expected: [UInt8] = c.x.contains(x) && c.y.contains(y) ? [255, 0, 255, 160] : [0, 0, 0, 0]
                if changes[x, y] != expected { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }

    @Test("edited and mask of other sizes are resized to the original; JPEG output")
    func otherSizes() throws {
        let original = try ImageProcessing.synthesize(width: 300, height: 200, format: .jpeg, seed: 1)
        let edited = try ImageProcessing.synthesize(width: 1536, height: 1024, format: .png, seed: 2, transparent: true)
        let mask = try Fixtures.rgba(width: 150, height: 100) { x, _ in [0, 0, 0, x < 75 ? 0 : 255] }
        let result = try ImageProcessing.compositePreservingUnmasked(
            original: original, edited: edited, mask: mask, featherRadius: 8, format: .jpeg)
        #expect(try ImageProcessing.probe(result.composite) == ImageInfo(format: .jpeg, width: 300, height: 200, hasAlpha: false))
        #expect(try ImageProcessing.probe(result.changes) == ImageInfo(format: .png, width: 300, height: 200, hasAlpha: true))
    }

    @Test("a mask of the wrong shape is refused")
    func wrongMask() throws {
        let original = try ImageProcessing.synthesize(width: 300, height: 200, format: .png, seed: 1)
        let mask = try Fixtures.grey(width: 100, height: 100) { _, _ in 0 }
        #expect(
            imageError {
                _ = try ImageProcessing.compositePreservingUnmasked(
                    original: original, edited: original, mask: mask, featherRadius: 2, format: .png)
            } == .maskAspectMismatch(maskWidth: 100, maskHeight: 100, baseWidth: 300, baseHeight: 200))
    }
}
