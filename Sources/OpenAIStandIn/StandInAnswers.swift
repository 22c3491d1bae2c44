import AtelierCore
import Crypto
import Foundation
import ImageProcessing
import Vapor

/// The stand-in's answers: OpenAI's ImagesResponse, its event stream, and the documented usage rule.
extension StandInService {
    func baseHeaders(requestID: String, contentType: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: contentType)
        headers.add(name: "x-request-id", value: requestID)
        headers.add(name: "openai-version", value: "2020-10-01")
        headers.add(name: "openai-organization", value: "org-standin")
        return headers
    }

    func rawResponse(status: HTTPResponseStatus, body: String, requestID: String, contentType: String, honestLength: Bool) -> Response {
        Response(status: status, headers: baseHeaders(requestID: requestID, contentType: contentType), body: .init(string: body))
    }

    static func seed(prompt: String, index: Int, salt: UInt64 = 0) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in prompt.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        hash ^= UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        hash ^= salt &* 0xBF58_476D_1CE4_E5B9
        return hash
    }

    func synthesize(_ call: ValidatedCall, index: Int, salt: UInt64 = 0, scale: Int = 1) throws -> Data {
        guard options.reuseImages else { return try synthesizeAnew(call, index: index, salt: salt, scale: scale) }
        let key = [
            "\(call.width / scale)x\(call.height / scale)", call.format.rawValue, call.background,
            "\(call.compression ?? -1)", "\(Self.seed(prompt: call.prompt, index: index, salt: salt))",
        ].joined(separator: "/")
        return try imageCache.image(forKey: key) { try synthesizeAnew(call, index: index, salt: salt, scale: scale) }
    }

    private func synthesizeAnew(_ call: ValidatedCall, index: Int, salt: UInt64, scale: Int) throws -> Data {
        if options.noiseUniform {
            return try StandInUniformNoise.image(
                width: max(1, call.width / scale), height: max(1, call.height / scale), format: call.format,
                seed: Self.seed(prompt: call.prompt, index: index, salt: salt))
        }
        if options.noiseImages {
            return try ImageProcessing.synthesizeNoise(
                width: max(1, call.width / scale), height: max(1, call.height / scale), format: call.format,
                seed: Int32(truncatingIfNeeded: Self.seed(prompt: call.prompt, index: index, salt: salt)),
                grain: max(1, options.noiseGrain))
        }
        return try ImageProcessing.synthesize(
            width: max(1, call.width / scale), height: max(1, call.height / scale), format: call.format,
            seed: Self.seed(prompt: call.prompt, index: index, salt: salt), transparent: call.background == "transparent",
            compression: call.compression)
    }

    /// One output: a synthetic raster, an animated GIF of `frame_count` of them, or an SVG document.
    func output(_ call: ValidatedCall, index: Int) throws -> Data {
        switch call.preview {
        case nil: return try synthesize(call, index: index)
        case .gif(let frames, let duration)?:
            return try StandInPreview.gif(frames: frames, frameDurationMs: duration) { frame in
                try synthesize(call, index: index, salt: UInt64(frame + 1))
            }
        case .svg?:
            return ImageProcessing.synthesizeSVG(
                width: call.width, height: call.height, seed: Self.seed(prompt: call.prompt, index: index))
        }
    }

    /// Usage by the stand-in's documented rule:
    /// - input text tokens = max(1, prompt characters / 4);
    /// - input image tokens = for each input image, 65 + 129 × (number of 512-px tiles covering it);
    /// - output image tokens = the registry's `output_tokens[quality][size]` per image (auto → high; a model without a
    ///   table uses its snapshot's or gpt-image-2's; xhigh = high × 1.5, max = high × 2; an unlisted size scales the
    ///   1024x1024 value by area) × n (× frame_count for GIF output), plus `partial_image_output_tokens` (100) per
    ///   streamed partial image.
    static func usage(for call: ValidatedCall, registry: ModelRegistry) -> String {
        let text = max(1, call.prompt.count / 4)
        let image = call.inputImages.reduce(0) { total, info in
            total + 65 + 129 * ((info.width + 511) / 512) * ((info.height + 511) / 512)
        }
        var perImage = outputTokens(model: call.model, quality: call.quality, width: call.width, height: call.height, registry: registry)
        if case .gif(let frames, _) = call.preview { perImage *= frames }
        let output = perImage * call.n + call.partialImages * call.n * registry.partialImageOutputTokens
        return jsonFragment([
            "input_tokens": text + image,
            "input_tokens_details": ["text_tokens": text, "image_tokens": image],
            "output_tokens": output,
            "output_tokens_details": ["image_tokens": output, "text_tokens": 0],
            "total_tokens": text + image + output,
        ])
    }

    static func outputTokens(model: ImageModel, quality: String, width: Int, height: Int, registry: ModelRegistry) -> Int {
        var table = model.outputTokens
        if table.isEmpty, let parent = model.snapshotOf.flatMap(registry.model) { table = parent.outputTokens }
        if table.isEmpty { table = registry.model("gpt-image-2")?.outputTokens ?? [:] }
        var key = quality
        var factor = 1.0
        switch quality {
        case "xhigh": (key, factor) = ("high", 1.5)
        case "max": (key, factor) = ("high", 2)
        default: break
        }
        let row = table[key] ?? table["high"] ?? ["1024x1024": 4160]
        if let exact = row["\(width)x\(height)"] { return Int((Double(exact) * factor).rounded()) }
        let base = Double(row["1024x1024"] ?? 4160)
        return Int((base * Double(width * height) / (1024 * 1024) * factor).rounded())
    }

    static func jsonFragment(_ object: Any, usage: String? = nil) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        let text = String(decoding: data, as: UTF8.self)
        guard let usage else { return text }
        return "{\"usage\":\(usage)," + text.dropFirst()
    }

    /// The `ImagesResponse` JSON for `call` (also a batch output line's `response.body`).
    func imagesResponseBody(_ call: ValidatedCall, usage: String) async throws -> ByteBuffer {
        let service = self
        // Encoding is CPU work: keep it off the event loops.
        let images = try await NIOThreadPool.singleton.runIfActive {
            try (0..<call.n).map { try service.output(call, index: $0) }
        }
        var meta: [String: Any] = [
            "created": Int(Date().timeIntervalSince1970), "background": call.background,
            "output_format": call.outputFormat, "quality": call.quality, "size": "\(call.width)x\(call.height)",
        ]
        if case .svg(let author, let effort) = call.preview {
            meta["svg_usage"] = StandInPreview.svgUsage(
                author: author, effort: effort, prompt: call.prompt, documentBytes: images.first?.count ?? 0, registry: registry)
        }
        let metaJSON = Self.jsonFragment(meta, usage: usage)
        let base64Total = images.reduce(0) { $0 + ($1.count + 2) / 3 * 4 + 20 }
        var buffer = ByteBufferAllocator().buffer(capacity: base64Total + metaJSON.utf8.count + 32)
        buffer.writeString("{\"data\":[")
        for (index, image) in images.enumerated() {
            if index > 0 { buffer.writeString(",") }
            buffer.writeString("{\"b64_json\":\"")
            buffer.writeString(image.base64EncodedString())
            buffer.writeString("\"}")
        }
        buffer.writeString("],")
        buffer.writeString(String(metaJSON.dropFirst()))
        return buffer
    }

    func jsonImagesResponse(
        _ call: ValidatedCall, usage: String, requestID: String, truncate: Bool, stall: StandInFault? = nil,
        started: ContinuousClock.Instant
    ) async throws -> Response {
        let buffer = try await imagesResponseBody(call, usage: usage)
        var headers = baseHeaders(requestID: requestID, contentType: "application/json")
        let elapsed = ContinuousClock.now - started
        headers.add(
            name: "openai-processing-ms",
            value: String(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
        if let stall { return stalls.response(buffer, headers: headers, stall: stall) }
        if truncate {
            // Promise the whole body, send half, then end: the client sees a body cut short.
            let full = buffer.readableBytes
            let half = buffer.getSlice(at: buffer.readerIndex, length: full / 2)!
            headers.replaceOrAdd(name: .connection, value: "close")
            return Response(
                status: .ok, headers: headers,
                body: .init(
                    asyncStream: { writer in
                        try? await writer.write(.buffer(half))
                        try? await writer.write(.error(TruncatedOnPurpose()))
                    }, count: full))
        }
        return Response(status: .ok, headers: headers, body: .init(buffer: buffer))
    }

    struct TruncatedOnPurpose: Error {}

    func streamResponse(_ call: ValidatedCall, usage: String, requestID: String, truncate: Bool, streamError: Bool) -> Response {
        let prefix = call.endpoint == .generations ? "image_generation" : "image_edit"
        var headers = baseHeaders(requestID: requestID, contentType: "text/event-stream; charset=utf-8")
        headers.add(name: "cache-control", value: "no-cache")
        let service = self
        return Response(
            status: .ok, headers: headers,
            body: .init(asyncStream: { writer in
                do {
                    for index in 0..<call.n {
                        for partial in 0..<call.partialImages {
                            let data = try await NIOThreadPool.singleton.runIfActive {
                                try service.synthesize(call, index: index, salt: UInt64(partial + 1))
                            }
                            let meta: [String: Any] = [
                                "type": "\(prefix).partial_image", "created_at": Int(Date().timeIntervalSince1970),
                                "size": call.requestedSize, "quality": call.requestedQuality,
                                "background": call.requestedBackground, "output_format": call.format.rawValue,
                                "partial_image_index": partial,
                            ]
                            try await writer.write(.buffer(Self.event("\(prefix).partial_image", meta: meta, image: data)))
                            if streamError {
                                let error =
                                    "{\"type\":\"error\",\"error\":{\"message\":\"The server had an error while generating the image.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}"
                                try await writer.write(.buffer(ByteBuffer(string: "event: error\ndata: \(error)\n\n")))
                                try await writer.write(.end)
                                return
                            }
                        }
                        if truncate {
                            try await writer.write(.end)
                            return
                        }
                        let data = try await NIOThreadPool.singleton.runIfActive { try service.synthesize(call, index: index) }
                        let meta: [String: Any] = [
                            "type": "\(prefix).completed", "created_at": Int(Date().timeIntervalSince1970),
                            "size": call.requestedSize, "quality": call.requestedQuality,
                            "background": call.requestedBackground, "output_format": call.format.rawValue,
                        ]
                        try await writer.write(
                            .buffer(Self.event("\(prefix).completed", meta: meta, image: data, usage: usage)))
                    }
                    if streamError {
                        let error =
                            "{\"type\":\"error\",\"error\":{\"message\":\"The server had an error while generating the image.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}"
                        try await writer.write(.buffer(ByteBuffer(string: "event: error\ndata: \(error)\n\n")))
                    }
                    try await writer.write(.end)
                } catch {
                    try? await writer.write(.error(error))
                }
            }))
    }

    /// `event: <type>\ndata: {"b64_json":"…", …meta}\n\n`
    static func event(_ type: String, meta: [String: Any], image: Data, usage: String? = nil) -> ByteBuffer {
        let metaJSON = jsonFragment(meta, usage: usage)
        let encoded = image.base64EncodedString()
        var buffer = ByteBufferAllocator().buffer(capacity: encoded.utf8.count + metaJSON.utf8.count + type.utf8.count + 40)
        buffer.writeString("event: \(type)\ndata: {\"b64_json\":\"")
        buffer.writeString(encoded)
        buffer.writeString("\",")
        buffer.writeString(String(metaJSON.dropFirst()))
        buffer.writeString("\n\n")
        return buffer
    }
}
