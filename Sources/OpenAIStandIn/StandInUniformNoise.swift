import Foundation
import ImageProcessing

/// Uniform noise images for benchmarks (`StandInOptions.noiseUniform`): every byte of every RGB pixel drawn
/// uniformly from 0–255 by a seeded SplitMix64. Neither PNG's filters nor zlib can shrink that, so a W×H PNG is
/// about W·H·3 bytes: 1024×1024 gives ~3.15 MB, the size issue 13 measured OpenAI's answers at (the Gaussian noise
/// of `ImageProcessing.synthesizeNoise`, σ = 40, compresses to ~2.37 MB). Same seed → same bytes.
enum StandInUniformNoise {
    static func image(width: Int, height: Int, format: ImageFormat, seed: UInt64) throws -> Data {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var state = seed
        pixels.withUnsafeMutableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                state &+= 0x9E37_79B9_7F4A_7C15
                var word = state
                word = (word ^ (word >> 30)) &* 0xBF58_476D_1CE4_E5B9
                word = (word ^ (word >> 27)) &* 0x94D0_49BB_1331_11EB
                word ^= word >> 31
                if offset + 8 <= bytes.count {
                    bytes.storeBytes(of: word.littleEndian, toByteOffset: offset, as: UInt64.self)
                } else {
                    for index in offset..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: word >> (8 * (index - offset))) }
                }
                offset += 8
            }
        }
        return try ImageProcessing.encode(pixels: pixels, width: width, height: height, channels: 3, format: format)
    }
}
