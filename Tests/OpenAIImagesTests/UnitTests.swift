import AtelierCore
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import OpenAIImages

@Suite("SSE parser")
struct SSEParserTests {
    static func feedAll(_ chunks: [String]) -> [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for chunk in chunks { events += parser.feed(ByteBuffer(string: chunk)) }
        events += parser.finish()
        return events
    }

    @Test func parsesEventsSplitAcrossChunksByteByByte() {
        let text = "event: image_generation.partial_image\ndata: {\"a\":1}\n\nevent: image_generation.completed\ndata: {\"b\":2}\n\n"
        let events = Self.feedAll(text.map { String($0) })
        #expect(events.count == 2)
        #expect(events[0].event == "image_generation.partial_image")
        #expect(events[0].dataString == "{\"a\":1}")
        #expect(events[1].event == "image_generation.completed")
        #expect(events[1].dataString == "{\"b\":2}")
    }

    @Test func handlesCRLFAndCRSplitBetweenChunks() {
        let events = Self.feedAll(["event: x\r", "\ndata: one\r\n", "\r", "\nevent: y\rdata: two\r\r"])
        #expect(events.map(\.event) == ["x", "y"])
        #expect(events.map(\.dataString) == ["one", "two"])
    }

    @Test func ignoresCommentsJoinsMultilineDataAndStopsAtDone() {
        let text = ": keep-alive\n\ndata: line1\ndata:line2\nid: 7\nretry: 100\n\ndata: [DONE]\n\ndata: after\n\n"
        var parser = SSEParser()
        let events = parser.feed(ByteBuffer(string: text))
        #expect(events.count == 1)
        #expect(events[0].dataString == "line1\nline2")
        #expect(events[0].id == "7")
        #expect(parser.isFinished)
        #expect(parser.feed(ByteBuffer(string: "data: more\n\n")).isEmpty)
    }

    @Test func finishDispatchesAnUnterminatedEvent() {
        let events = Self.feedAll(["event: e\ndata: tail"])
        #expect(events.count == 1)
        #expect(events[0].dataString == "tail")
    }

    @Test func largePayloadInManyChunks() {
        let payload = String(repeating: "A", count: 300_000)
        let text = "event: big\ndata: \(payload)\n\n"
        let bytes = Array(text.utf8)
        var chunks: [String] = []
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + 4096)
            chunks.append(String(decoding: bytes[index..<end], as: UTF8.self))
            index = end
        }
        let events = Self.feedAll(chunks)
        #expect(events.count == 1)
        #expect(events[0].data.readableBytes == 300_000)
    }
}

@Suite("Retry-After and rate-limit headers")
struct RetryAfterTests {
    @Test func goDurations() {
        #expect(RetryAfter.goDuration("6m0s") == 360)
        #expect(RetryAfter.goDuration("1s") == 1)
        #expect(RetryAfter.goDuration("250ms") == 0.25)
        #expect(RetryAfter.goDuration("1h2m3.5s") == 3723.5)
        #expect(RetryAfter.goDuration("20") == 20)
        #expect(RetryAfter.goDuration("abc") == nil)
        #expect(RetryAfter.goDuration("") == nil)
    }

    @Test func precedence() {
        let both: HTTPHeaders = ["retry-after-ms": "1500", "retry-after": "20"]
        #expect(RetryAfter.seconds(from: both) == 1.5)
        #expect(RetryAfter.seconds(from: ["Retry-After": "20"]) == 20)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let date = "Tue, 14 Nov 2023 22:13:40 GMT"  // now + 20 s
        #expect(RetryAfter.seconds(from: ["Retry-After": date], now: now) == 20)
        let resets: HTTPHeaders = [
            "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s", "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-remaining-tokens": "1000",
        ]
        #expect(RetryAfter.seconds(from: resets) == 1)  // the exhausted dimension
        #expect(RetryAfter.seconds(from: ["x-ratelimit-reset-images": "250ms", "x-ratelimit-reset-tokens": "2s"]) == 2)
        #expect(RetryAfter.seconds(from: [:]) == nil)
    }

    @Test func statusMapping() {
        func map(_ status: Int, _ body: String, _ headers: HTTPHeaders = [:]) -> ProviderError {
            OpenAIErrorMapper.map(status: status, body: Data(body.utf8), headers: headers)
        }
        let quota = map(429, #"{"error":{"message":"m","type":"insufficient_quota","param":null,"code":null}}"#)
        #expect(quota == .insufficientQuota(message: "m", code: "insufficient_quota"))
        let hardLimit = map(
            400, #"{"error":{"message":"m","type":"invalid_request_error","param":null,"code":"billing_hard_limit_reached"}}"#)
        #expect(hardLimit == .insufficientQuota(message: "m", code: "billing_hard_limit_reached"))
        #expect(map(502, "<html>bad gateway</html>") == .serverError(status: 502, message: "<html>bad gateway</html>"))
        #expect(map(429, "{}", ["retry-after": "3"]).retryAfter == 3)
        #expect(
            map(404, #"{"error":{"message":"nope","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#)
                == .modelNotFound(message: "nope"))
    }
}

@Suite("Response decoding and request encoding")
struct CodecTests {
    @Test func decodesImagesStraightFromRawJSON() throws {
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 0xFF, 0xFE])
        let escaped = png.base64EncodedString().replacingOccurrences(of: "/", with: "\\/")
        let json = """
            {"created": 5, "data": [ {"b64_json" : "\(png.base64EncodedString())", "revised_prompt": "say \\"b64_json\\": no"},
            {"b64_json":"\(escaped)"} ], "size":"1024x1024", "quality":"high", "background":"opaque", "output_format":"png",
            "usage": {"input_tokens": 10, "input_tokens_details": {"text_tokens": 4, "image_tokens": 6},
            "output_tokens": 100, "output_tokens_details": {"image_tokens": 90, "text_tokens": 10}, "total_tokens": 110}}
            """
        let result = try ImagesResponseDecoder.decode(ByteBuffer(string: json))
        #expect(result.images == [png, png])
        #expect(result.created == 5)
        #expect(result.size == "1024x1024")
        #expect(
            result.usage
                == Usage(
                    inputTokens: 10, inputTextTokens: 4, inputImageTokens: 6, outputTokens: 100, outputImageTokens: 90,
                    outputTextTokens: 10, totalTokens: 110))
    }

    @Test func decodesTheSameWhateverTheChunkBoundaries() throws {
        var generator = SystemRandomNumberGenerator()
        let images = (0..<3).map { n in Data((0..<(1000 + n)).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        let values = images.enumerated().map { index, data in
            // One value with JSON-escaped slashes, as some encoders write them.
            index == 1 ? data.base64EncodedString().replacingOccurrences(of: "/", with: "\\/") : data.base64EncodedString()
        }
        let json =
            #"{"created":7,"data":["# + values.map { #"{"note":"b64_json","b64_json":"\#($0)"}"# }.joined(separator: ",")
            + #"],"size":"1536x1024"}"#
        let bytes = Array(json.utf8)
        for chunkSize in [1, 2, 3, 5, 64, 4096, bytes.count] {
            var extractor = Base64FieldExtractor(key: "b64_json")
            for start in stride(from: 0, to: bytes.count, by: chunkSize) {
                extractor.feed(ByteBuffer(bytes: bytes[start..<min(start + chunkSize, bytes.count)]))
            }
            let result = try ImagesResponseDecoder.decode(extractor.finish())
            #expect(result.images == images, "chunks of \(chunkSize) bytes")
            #expect(result.size == "1536x1024")
        }
    }

    /// The decoded image is written in place into storage sized from the Content-Length: a length that is too
    /// small (the storage grows) or too large (the unwritten tail is dropped) still gives the exact bytes.
    @Test func decodesInPlaceWhateverTheAnnouncedLength() throws {
        let image = Data((0..<(300 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ $0 >> 9) })
        let body = Array(#"{"data":[{"b64_json":"\#(image.base64EncodedString())"}]}"#.utf8)
        for expected in [nil, 10, body.count, body.count * 4] {
            var extractor = Base64FieldExtractor(key: "b64_json", expectedBytes: expected)
            for start in stride(from: 0, to: body.count, by: 16_384) {
                extractor.feed(ByteBuffer(bytes: body[start..<min(start + 16_384, body.count)]))
            }
            let extracted = extractor.finish()
            #expect(extracted.blobs == [image], "announced \(expected.map(String.init) ?? "nothing")")
            #expect(String(decoding: extracted.rest, as: UTF8.self) == #"{"data":[{"b64_json":""}]}"#)
        }
    }

    /// Every length and every position of a bad symbol, so each of the fast runs (eight, then four symbols at a
    /// time) and the byte-by-byte path meet their ends and their refusals.
    @Test func agreesWithFoundationAtEveryLengthAndRefusesABadSymbolAnywhere() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<40 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let encoded = data.base64EncodedString()
            let extracted = Base64FieldExtractor.extract(key: "b64_json", from: ByteBuffer(string: #"{"b64_json":"\#(encoded)"}"#))
            #expect(extracted.blobs == [data], "\(length) bytes")
            for position in encoded.indices where encoded[position] != "=" {
                var bad = encoded
                bad.replaceSubrange(position...position, with: "*")
                let refused = Base64FieldExtractor.extract(key: "b64_json", from: ByteBuffer(string: #"{"b64_json":"\#(bad)"}"#))
                #expect(
                    refused.blobs == [nil], "\(length) bytes, bad symbol at \(encoded.distance(from: encoded.startIndex, to: position))")
            }
        }
    }

    @Test func paddingIsHonouredAndMisplacedPaddingRefused() {
        for length in 0...5 {
            let data = Data((0..<length).map { UInt8($0 + 250 - length) })
            let extracted = Base64FieldExtractor.extract(
                key: "b64_json", from: ByteBuffer(string: #"{"b64_json":"\#(data.base64EncodedString())"}"#))
            #expect(extracted.blobs == [data])
        }
        for bad in ["AA=A", "A===", "AAA", "AAAA=", "AA\\nAA", "AA AA"] {
            let extracted = Base64FieldExtractor.extract(key: "b64_json", from: ByteBuffer(string: #"{"b64_json":"\#(bad)"}"#))
            #expect(extracted.blobs == [nil], "\(bad)")
            #expect(String(decoding: extracted.rest, as: UTF8.self) == #"{"b64_json":""}"#)
        }
    }

    @Test func rejectsMissingDataAndBadBase64() {
        #expect(throws: ProviderError.self) { try ImagesResponseDecoder.decode(ByteBuffer(string: #"{"created":1,"data":[]}"#)) }
        #expect(throws: ProviderError.self) { try ImagesResponseDecoder.decode(ByteBuffer(string: #"{"created":1,"data":[{"url":"x"}]}"#)) }
        #expect(throws: ProviderError.self) { try ImagesResponseDecoder.decode(ByteBuffer(string: #"{"data":[{"b64_json":"%%%"}]}"#)) }
        #expect(throws: ProviderError.self) { try ImagesResponseDecoder.decode(ByteBuffer(string: #"{"data":[{"b64_json":"AAAA"}"#)) }
    }

    @Test func streamedMultipartEqualsTheEncodedBodyAndItsLength() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("part-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let big = Data((0..<(200 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31) })  // several 64 KiB chunks
        try big.write(to: file)
        var body = MultipartBody(boundary: "B")
        body.addText("prompt", "hi")
        body.addFile("image[]", ImageUpload(filename: "a.png", contentType: "image/png", bytes: .file(file, byteCount: big.count)))
        body.addFile("image[]", ImageUpload(filename: "b.png", contentType: "image/png", data: Data([1, 2, 3])))
        var streamed = ByteBuffer()
        var chunks = 0
        for try await var chunk in body.stream() {
            #expect(chunk.readableBytes <= MultipartStream.chunkSize)
            streamed.writeBuffer(&chunk)
            chunks += 1
        }
        #expect(streamed == (try body.encode()))
        #expect(streamed.readableBytes == body.byteCount)
        #expect(chunks > 4)

        // A file that shrank after its length was promised fails the request rather than sending a short body.
        try Data(big.prefix(1000)).write(to: file)
        await #expect(throws: MultipartFileChanged.self) { for try await _ in body.stream() {} }
    }

    @Test func multipartMatchesTheSDKShape() throws {
        var body = MultipartBody(boundary: "B")
        body.addText("prompt", "hi")
        body.addText("stream", WireValue.bool(true).text)
        body.addFile("image[]", ImageUpload(filename: "a.png", contentType: "image/png", data: Data([1, 2])))
        let text = String(buffer: try body.encode())
        #expect(
            text == "--B\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nhi\r\n"
                + "--B\r\nContent-Disposition: form-data; name=\"stream\"\r\n\r\ntrue\r\n"
                + "--B\r\nContent-Disposition: form-data; name=\"image[]\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\u{01}\u{02}\r\n"
                + "--B--\r\n")
        #expect(body.contentType == "multipart/form-data; boundary=B")
    }

    @Test func fieldsForGenerationsAndEdits() {
        let parameters = ImageParameters(
            prompt: "p", model: "m", n: 2, size: "auto", quality: "auto", background: "auto", outputFormat: "png",
            moderation: "auto", complexity: "high", partialImages: 3, inputFidelity: "high")
        let generation = OpenAIImageProvider.fields(for: ProviderRequest(parameters: parameters))
        #expect(generation.inputFidelity == nil)
        #expect(generation.moderation == "auto")
        let names = generation.wireFields(forEdit: false).map(\.0)
        #expect(
            names == [
                "prompt", "model", "n", "size", "quality", "background", "output_format", "moderation", "complexity", "stream",
                "partial_images",
            ])
        let edit = OpenAIImageProvider.fields(
            for: ProviderRequest(parameters: parameters, images: [ImageUpload(filename: "a", contentType: "image/png", data: Data())]))
        #expect(edit.moderation == nil)
        #expect(edit.wireFields(forEdit: true).map(\.0).contains("input_fidelity"))
    }

    @Test func configurationNeverPrintsTheKey() {
        let configuration = OpenAIConfiguration(apiKey: "sk-very-secret", organization: "org-1")
        #expect(!configuration.description.contains("sk-very-secret"))
        #expect(!String(reflecting: configuration).contains("sk-very-secret"))
        #expect(configuration.description.contains("org-1"))
    }
}

@Suite struct RateLimitHeaderTests {
    @Test func theWaitInA429MessageIsReadWhenNoHeaderSaysIt() {
        #expect(
            RetryAfter.seconds(
                inMessage:
                    "Rate limit reached for gpt-image-2 … on images per min (IPM): Limit 5, Used 5, Requested 1. Please try again in 1.2s. Visit …"
            ) == 1.2)
        #expect(RetryAfter.seconds(inMessage: "… Please try again in 20ms.") == 0.02)
        #expect(RetryAfter.seconds(inMessage: "… Please try again in 6m0s.") == 360)
        #expect(RetryAfter.seconds(inMessage: "You exceeded your current quota") == nil)
    }

    @Test func aSuccessfulAnswerWithNothingRemainingSaysWhenItResets() {
        let used: HTTPHeaders = [
            "x-ratelimit-limit-images": "12", "x-ratelimit-remaining-images": "0", "x-ratelimit-reset-images": "6s",
            "x-ratelimit-remaining-requests": "40", "x-ratelimit-reset-requests": "1s",
        ]
        #expect(RetryAfter.exhaustedReset(from: used) == 6)
        let room: HTTPHeaders = ["x-ratelimit-remaining-images": "3", "x-ratelimit-reset-images": "6s"]
        #expect(RetryAfter.exhaustedReset(from: room) == nil)
    }
}
