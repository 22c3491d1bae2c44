import Foundation
import NIOCore
import Testing

@testable import AtelierServer

@Suite struct MultipartStreamParserTests {
    /// Parses `body` fed in chunks of `size`, returning (headers, body) per part.
    static func parse(_ body: [UInt8], boundary: String, chunk size: Int) throws -> ([[String: String]], [[UInt8]], Bool) {
        var parser = MultipartStreamParser(boundary: boundary)
        var headers: [[String: String]] = []
        var bodies: [[UInt8]] = []
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + size)
            for event in try parser.feed(ByteBuffer(bytes: body[offset..<end])) {
                switch event {
                case .partBegin(let h):
                    headers.append(Dictionary(h.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }))
                    bodies.append([])
                case .body(let bytes): bodies[bodies.count - 1] += Array(bytes.readableBytesView)
                case .partEnd: break
                }
            }
            offset = end
        }
        return (headers, bodies, parser.isFinished)
    }

    @Test func partsSurviveEveryChunkSplitIncludingBoundaryLookalikes() throws {
        let boundary = "xYz"
        let tricky: [UInt8] = Array("a\r\n--xY\r\n-\r\n--xz? no: \r\n--x".utf8) + [0, 13, 10, 45, 45, 255]
        let text =
            "--xYz\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nhello\r\n"
            + "--xYz\r\nContent-Disposition: form-data; name=\"image[]\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
        let body = Array(text.utf8) + tricky + Array("\r\n--xYz--\r\n".utf8)
        for size in [1, 2, 3, 5, 7, 13, 64, body.count] {
            let (headers, bodies, finished) = try Self.parse(body, boundary: boundary, chunk: size)
            #expect(finished, "chunk \(size)")
            #expect(headers.count == 2, "chunk \(size)")
            #expect(bodies.first == Array("hello".utf8), "chunk \(size)")
            #expect(bodies.last == tricky, "chunk \(size)")
            #expect(headers.last?["content-type"] == "image/png")
        }
    }

    @Test func aBodyWithoutTheClosingBoundaryIsNotFinished() throws {
        let body = Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue".utf8)
        let (_, _, finished) = try Self.parse(body, boundary: "b", chunk: 4)
        #expect(!finished)
        #expect(throws: MultipartStreamParser.ParseError.self) {
            _ = try Self.parse(Array(String(repeating: "junk", count: 5000).utf8), boundary: "b", chunk: 100)
        }
    }
}
