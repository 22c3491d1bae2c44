// image-bench: sizes and timings for the ImageProcessing module, printed as a markdown table.
// Run: swift run --scratch-path .build-img -c release image-bench
import Foundation
import ImageProcessing

func median(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    return samples.sorted()[runs / 2]
}

func fmt(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

struct Case { let name: String; let data: Data; let width: Int; let height: Int }

let cases: [Case] = try [
    Case(
        name: "synthetic gradient 1024×1024 PNG", data: ImageProcessing.synthesize(width: 1024, height: 1024, format: .png, seed: 1),
        width: 1024, height: 1024),
    Case(
        name: "synthetic gradient 1536×1024 PNG", data: ImageProcessing.synthesize(width: 1536, height: 1024, format: .png, seed: 2),
        width: 1536, height: 1024),
    Case(
        name: "gaussnoise σ40 1024×1024 PNG", data: ImageProcessing.synthesizeNoise(width: 1024, height: 1024, format: .png), width: 1024,
        height: 1024),
    Case(
        name: "gaussnoise σ40 1536×1024 PNG", data: ImageProcessing.synthesizeNoise(width: 1536, height: 1024, format: .png), width: 1536,
        height: 1024),
    Case(
        name: "gaussnoise σ40, 3 px grain, 1024×1024 PNG",
        data: ImageProcessing.synthesizeNoise(width: 1024, height: 1024, format: .png, grain: 3), width: 1024, height: 1024),
    Case(
        name: "gaussnoise σ40, 3 px grain, 1024×1024 JPEG q75",
        data: ImageProcessing.synthesizeNoise(width: 1024, height: 1024, format: .jpeg, grain: 3), width: 1024, height: 1024),
]

print("| input | original bytes | thumbnail bytes (WebP q75, 384) | ratio | thumbnail ms (median of 10) | probe µs (median of 100) |")
print("|---|---:|---:|---:|---:|---:|")
for item in cases {
    let thumb = try ImageProcessing.thumbnail(item.data)
    let thumbMs = try median(10) { _ = try ImageProcessing.thumbnail(item.data) } * 1000
    let probeUs = try median(100) { _ = try ImageProcessing.probe(item.data) } * 1_000_000
    let ratio = Double(thumb.count) / Double(item.data.count)
    print("| \(item.name) | \(item.data.count) | \(thumb.count) | 1/\(fmt(1 / ratio)) | \(fmt(thumbMs)) | \(fmt(probeUs)) |")
}

// Composite: 1536×1024 original + edited (other seed) + centred rectangular mask, feather 8.
let original = cases[1].data
let edited = try ImageProcessing.synthesize(width: 1536, height: 1024, format: .png, seed: 99)
var maskPixels = [UInt8](repeating: 255, count: 1536 * 1024)
for y in 256..<768 { for x in 384..<1152 { maskPixels[y * 1536 + x] = 0 } }
let mask = try ImageProcessing.encode(pixels: maskPixels, width: 1536, height: 1024, channels: 1, format: .png)

print("")
print("| operation (1536×1024) | median of 10 (ms) |")
print("|---|---:|")
for format in ImageFormat.allCases {
    let ms =
        try median(10) {
            _ = try ImageProcessing.compositePreservingUnmasked(
                original: original, edited: edited, mask: mask, featherRadius: 8, format: format)
        } * 1000
    print("| compositePreservingUnmasked → \(format.rawValue) + changes PNG, feather 8 | \(fmt(ms)) |")
}
for format in ImageFormat.allCases {
    let ms = try median(10) { _ = try ImageProcessing.synthesize(width: 1536, height: 1024, format: format, seed: 7) } * 1000
    print("| synthesize \(format.rawValue) | \(fmt(ms)) |")
}
let prepMs = try median(10) { _ = try ImageProcessing.prepareMask(mask, baseWidth: 1536, baseHeight: 1024) } * 1000
print("| prepareMask (greyscale PNG → RGBA PNG) | \(fmt(prepMs)) |")
