import Foundation
@testable import ImageProcessing

/// Fixtures built in code (no binary files in the repo).
enum Fixtures {
    /// PNG signature + IHDR (valid CRC) + IEND, claiming width×height RGBA8 — no pixel data at all.
    static func pngHeaderOnly(width: UInt32, height: UInt32) -> Data {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ payload: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + payload
            return be32(UInt32(payload.count)) + body + be32(crc32(body))
        }
        bytes += chunk("IHDR", be32(width) + be32(height) + [8, 6, 0, 0, 0])
        bytes += chunk("IEND", [])
        return Data(bytes)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    /// Greyscale image: `value(x, y)` per pixel.
    static func grey(width: Int, height: Int, format: ImageFormat = .png, _ value: (Int, Int) -> UInt8) throws -> Data {
        var pixels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { pixels[y * width + x] = value(x, y) } }
        return try ImageProcessing.encode(pixels: pixels, width: width, height: height, channels: 1, format: format)
    }

    /// RGBA image: `value(x, y)` per pixel.
    static func rgba(width: Int, height: Int, format: ImageFormat = .png, _ value: (Int, Int) -> [UInt8]) throws -> Data {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * 4)
        for y in 0..<height { for x in 0..<width { pixels += value(x, y) } }
        return try ImageProcessing.encode(pixels: pixels, width: width, height: height, channels: 4, format: format)
    }
}

/// RGBA pixel access for assertions.
struct Pixels {
    let width: Int, height: Int, bytes: [UInt8]

    init(_ data: Data) throws {
        (width, height, bytes) = try ImageProcessing.rgbaPixels(data)
    }

    subscript(x: Int, y: Int) -> [UInt8] {
        let i = (y * width + x) * 4
        return Array(bytes[i..<i + 4])
    }

    func alpha(_ x: Int, _ y: Int) -> UInt8 { bytes[(y * width + x) * 4 + 3] }

    /// Max per-channel difference against `other` over the pixels where `include(x, y)`.
    func maxDifference(_ other: Pixels, where include: (Int, Int) -> Bool) -> Int {
        precondition(width == other.width && height == other.height)
        var worst = 0
        for y in 0..<height {
            for x in 0..<width where include(x, y) {
                let i = (y * width + x) * 4
                for c in 0..<4 { worst = max(worst, abs(Int(bytes[i + c]) - Int(other.bytes[i + c]))) }
            }
        }
        return worst
    }
}

/// Extracts the error case for `#expect` comparisons.
func imageError(_ body: () throws -> Void) -> ImageProcessingError? {
    do { try body(); return nil } catch let error as ImageProcessingError { return error } catch { return nil }
}
