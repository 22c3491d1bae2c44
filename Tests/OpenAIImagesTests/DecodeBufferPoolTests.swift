import Foundation
import NIOCore
import Testing

@testable import OpenAIImages

/// Large images are decoded into page-aligned buffers that come back to their pool when the image is released,
/// and nothing is leaked or shared on the way; small values and the bytes themselves are as before.
@Suite struct DecodeBufferPoolTests {
    static func body(_ images: [Data]) -> [UInt8] {
        Array((#"{"data":["# + images.map { #"{"b64_json":"\#($0.base64EncodedString())"}"# }.joined(separator: ",") + "]}").utf8)
    }

    static func random(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func extract(_ body: [UInt8], pool: DecodeBufferPool, expected: Int? = nil, chunk: Int = 65_536) -> [Data?] {
        var extractor = Base64FieldExtractor(key: "b64_json", expectedBytes: expected, pool: pool)
        for start in stride(from: 0, to: body.count, by: chunk) {
            extractor.feed(ByteBuffer(bytes: body[start..<min(start + chunk, body.count)]))
        }
        return extractor.finish().blobs
    }

    static func address(_ data: Data) -> Int { data.withUnsafeBytes { Int(bitPattern: $0.baseAddress) } }

    @Test func aLargeImageIsDecodedIntoAnAlignedBufferThatTheNextImageReuses() throws {
        let pool = DecodeBufferPool(maxSpareBytes: 64 << 20)
        let image = Self.random(700_001)
        let body = Self.body([image])
        var first = try #require(Self.extract(body, pool: pool, expected: body.count).first ?? nil)
        #expect(first == image)
        let address = Self.address(first)
        #expect(address % 4096 == 0, "page-aligned, so the blob store writes it with O_DIRECT without a copy")
        #expect(pool.spareBytes == 0, "the buffer is the image's while it is held")
        first = Data()
        #expect(pool.spareBytes >= image.count, "released with the image")
        let second = try #require(Self.extract(body, pool: pool, expected: body.count).first ?? nil)
        #expect(second == image)
        #expect(Self.address(second) == address, "the same buffer, already resident")
        #expect(pool.spareBytes == 0)
    }

    /// Without a Content-Length, and for the second image of a response, the buffer grows from small to pooled:
    /// the bytes are exact and every buffer given up on the way is back in the pool or freed.
    @Test func growingWithoutAnAnnouncedLengthKeepsEveryByteAndLeaksNoBuffer() throws {
        let pool = DecodeBufferPool(maxSpareBytes: 64 << 20)
        let images = [Self.random(900_000), Self.random(300_000)]
        for expected in [nil, 100] as [Int?] {
            for chunk in [4093, 1 << 20] {
                let blobs = Self.extract(Self.body(images), pool: pool, expected: expected, chunk: chunk)
                #expect(blobs == images, "announced \(String(describing: expected)), chunks of \(chunk)")
            }
        }
        var spareWhileHeld = 0
        do {
            let held = Self.extract(Self.body(images), pool: pool, expected: nil)
            spareWhileHeld = pool.spareBytes
            #expect(held == images)
        }
        #expect(pool.spareBytes > spareWhileHeld, "both images' buffers come back when they are released")
    }

    /// A value abandoned half-way (the read failed, the extractor is dropped) or refused as invalid base64 gives its
    /// buffer back; a pool that keeps nothing frees it.
    @Test func anAbandonedOrInvalidImageGivesItsBufferBack() {
        let pool = DecodeBufferPool(maxSpareBytes: 64 << 20)
        let body = Self.body([Self.random(600_000)])
        do {
            var extractor = Base64FieldExtractor(key: "b64_json", expectedBytes: body.count, pool: pool)
            extractor.feed(ByteBuffer(bytes: body[..<(body.count / 2)]))
            #expect(pool.spareBytes == 0)
        }
        #expect(pool.spareBytes >= 450_000, "the half-decoded image's buffer is back")
        var invalid = body
        invalid[body.count / 2] = UInt8(ascii: "*")
        #expect(Self.extract(invalid, pool: pool, expected: body.count) == [nil])
        #expect(pool.spareBytes >= 450_000)
        let keepsNothing = DecodeBufferPool(maxSpareBytes: 0)
        #expect(Self.extract(body, pool: keepsNothing, expected: body.count).count == 1)
        #expect(keepsNothing.spareBytes == 0)
    }

    /// Every byte that is not a base64 symbol, at every position of a value long enough for the fast runs (eight and
    /// four symbols at a time) and the byte-by-byte tail, is refused; every valid value agrees with Foundation.
    @Test func everyNonSymbolByteIsRefusedAnywhereAndValidValuesAgreeWithFoundation() {
        let symbols = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let encoded = Array(Self.random(22).base64EncodedString().utf8)  // 30 symbols and "=="
        // The quote ends the value and the backslash starts an escape: both are the JSON's, not the value's.
        let others = (0...255).map(UInt8.init).filter {
            !symbols.contains($0) && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
        }
        for byte in others {
            for position in encoded.indices where encoded[position] != UInt8(ascii: "=") {
                var bad = encoded
                bad[position] = byte
                let json = Array(#"{"b64_json":""#.utf8) + bad + Array(#""}"#.utf8)
                let extracted = Base64FieldExtractor.extract(key: "b64_json", from: ByteBuffer(bytes: json))
                #expect(extracted.blobs == [nil], "byte \(byte) at \(position)")
            }
        }
        for length in 0..<70 {
            let value = Self.random(length)
            let json = ByteBuffer(string: #"{"b64_json":"\#(value.base64EncodedString())"}"#)
            #expect(Base64FieldExtractor.extract(key: "b64_json", from: json).blobs == [value], "\(length) bytes")
        }
    }
}
