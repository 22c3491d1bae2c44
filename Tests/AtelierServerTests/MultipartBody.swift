import Foundation
import NIOCore
import Vapor

/// Builds multipart/form-data bodies for edit requests, like an SDK would.
struct MultipartBody {
    let boundary = "atelier-test-\(UUID().uuidString)"
    private var data = Data()

    mutating func field(_ name: String, _ value: String) {
        data.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
    }

    mutating func file(_ name: String, filename: String, contentType: String = "image/png", _ bytes: Data) {
        data.append(
            Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n"
                    .utf8))
        data.append(bytes)
        data.append(Data("\r\n".utf8))
    }

    var headers: HTTPHeaders { ["Content-Type": "multipart/form-data; boundary=\(boundary)"] }

    var buffer: ByteBuffer {
        var all = data
        all.append(Data("--\(boundary)--\r\n".utf8))
        return ByteBuffer(data: all)
    }
}

/// Hand-made image bytes for bad-input tests.
enum BadImages {
    /// A valid PNG signature and IHDR chunk (with a correct CRC) claiming `width`×`height`, and no pixel data.
    static func pngHeader(width: UInt32, height: UInt32) -> Data {
        var chunk = Data("IHDR".utf8)
        for value in [width, height] { withUnsafeBytes(of: value.bigEndian) { chunk.append(contentsOf: $0) } }
        chunk.append(contentsOf: [8, 6, 0, 0, 0])
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        withUnsafeBytes(of: UInt32(13).bigEndian) { png.append(contentsOf: $0) }
        png.append(chunk)
        withUnsafeBytes(of: crc32(chunk).bigEndian) { png.append(contentsOf: $0) }
        return png
    }

    static let gif = Data("GIF89a".utf8) + Data(repeating: 0, count: 64)
    static let text = Data("this is not an image at all".utf8)

    private static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
