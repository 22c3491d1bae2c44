import AtelierCore
import Crypto
import Foundation
import ImageProcessing
import Vapor

/// An OpenAI-compatible Images API stand-in: same wire format, strict validation, synthetic images,
/// injectable faults and request inspection. Mount it on any Vapor `Application`.
public enum OpenAIStandIn {
    /// Registers the stand-in's routes (`/v1/images/*`, `/_standin/*`) on `app`.
    public static func configure(_ app: Application, options: StandInOptions) throws {
        let registry = try options.registry ?? ModelRegistry.bundled()
        let service = StandInService(
            options: options, registry: registry,
            state: StandInState(maxFileBytes: options.maxRecordedFileBytes, maxRequests: options.maxRecordedRequests))

        app.on(.POST, "v1", "images", "generations", body: .collect(maxSize: "64mb")) { req async -> Response in
            await service.handle(req, endpoint: .generations)
        }
        app.on(.POST, "v1", "images", "edits", body: .collect(maxSize: "900mb")) { req async -> Response in
            await service.handle(req, endpoint: .edits)
        }
        for method in [HTTPMethod.GET, .POST, .PUT, .DELETE, .PATCH] {
            app.on(method, "v1", "**") { req async -> Response in
                APIError(
                    status: .notFound, message: "Invalid URL (\(req.method.rawValue) \(req.url.path))", code: "unknown_url"
                ).response(requestID: StandInService.makeRequestID())
            }
        }

        app.on(.POST, "_standin", "faults", body: .collect(maxSize: "1mb")) { req async throws -> Response in
            let request: StandInFaultRequest
            do {
                request = try JSONDecoder().decode(StandInFaultRequest.self, from: Data(req.body.data?.readableBytesView ?? ByteBuffer().readableBytesView))
            } catch {
                return APIError(status: .badRequest, message: "Invalid faults body: \(error)").response(requestID: "req_standin")
            }
            await service.state.enqueue(request)
            return jsonResponse(Data("{\"queued\":\(request.faults.count)}".utf8))
        }
        app.get("_standin", "requests") { _ async -> Response in
            jsonResponse(await service.state.listJSON())
        }
        app.delete("_standin", "requests") { _ async -> Response in
            await service.state.clear()
            return Response(status: .noContent)
        }
        app.get("_standin", "requests", ":index", "files", ":file") { req async -> Response in
            guard let index = req.parameters.get("index", as: Int.self), let file = req.parameters.get("file", as: Int.self),
                let found = await service.state.file(request: index, file: file)
            else {
                return APIError(status: .notFound, message: "No such recorded file (evicted or never sent).")
                    .response(requestID: "req_standin")
            }
            var headers = HTTPHeaders()
            headers.add(name: .contentType, value: found.contentType ?? "application/octet-stream")
            return Response(status: .ok, headers: headers, body: .init(data: found.data))
        }
        app.get("_standin", "stats") { _ async -> Response in
            let stats = await service.state.stats()
            return jsonResponse((try? JSONSerialization.data(withJSONObject: stats, options: [.sortedKeys])) ?? Data())
        }
    }

    static func jsonResponse(_ data: Data, status: HTTPResponseStatus = .ok) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json")
        return Response(status: status, headers: headers, body: .init(data: data))
    }
}

/// The request pipeline: record → latency → auth → fault → validate → answer.
struct StandInService: Sendable {
    let options: StandInOptions
    let registry: ModelRegistry
    let state: StandInState

    static func makeRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "req_" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    func handle(_ req: Request, endpoint: Endpoint) async -> Response {
        let requestID = Self.makeRequestID()
        let started = ContinuousClock.now

        // Parse (errors are reported after auth, like the real API).
        var parsed: ParsedCall?
        var parseError: APIError?
        do {
            parsed = try endpoint == .generations
                ? StandInParser.parseJSON(req.body.data)
                : StandInParser.parseMultipart(req.body.data, contentType: req.headers.contentType)
        } catch {
            parseError = error
        }
        let index = await state.record(recording(req, parsed: parsed), endpoint: endpoint)
        options.onRequestRecorded?(index)

        let latency = req.headers.first(name: "x-standin-latency-ms").flatMap { Int($0) } ?? options.latencyMilliseconds
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }

        do {
            try authorize(req)
            var truncate = false
            var streamError = false
            if let fault = await state.takeFault(for: endpoint) {
                switch fault.kind {
                case .hang: try? await Task.sleep(for: .seconds(fault.seconds ?? 30))
                case .truncate: truncate = true
                case .streamError: streamError = true
                case .invalidJSON:
                    return rawResponse(status: .ok, body: "{\"created\": 1, \"data\": [{\"b64_json\": \"iVBOR", requestID: requestID, contentType: "application/json", honestLength: true)
                case .badBase64:
                    return rawResponse(
                        status: .ok, body: "{\"created\":1,\"data\":[{\"b64_json\":\"***not base64***\"}],\"output_format\":\"png\"}",
                        requestID: requestID, contentType: "application/json", honestLength: true)
                default: throw Self.error(for: fault)
                }
            }
            if let parseError { throw parseError }
            let call = try StandInValidator(registry: registry).validate(parsed!, endpoint: endpoint)
            if streamError && !call.stream {
                throw APIError(
                    status: .internalServerError, message: "The server had an error while processing your request. Sorry about that!",
                    type: "server_error")
            }
            let usage = Self.usage(for: call, registry: registry)
            if call.stream {
                return streamResponse(call, usage: usage, requestID: requestID, truncate: truncate, streamError: streamError)
            }
            return try await jsonImagesResponse(call, usage: usage, requestID: requestID, truncate: truncate, started: started)
        } catch let error as APIError {
            return error.response(requestID: requestID)
        } catch {
            return APIError(
                status: .internalServerError, message: "The stand-in failed: \(error)", type: "server_error"
            ).response(requestID: requestID)
        }
    }

    func authorize(_ req: Request) throws(APIError) {
        let header = req.headers.first(name: .authorization) ?? ""
        let key: String? = header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        guard let key, !key.isEmpty else {
            throw APIError(
                status: .unauthorized,
                message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code: "invalid_api_key")
        }
        if let expected = options.apiKey, key != expected {
            throw APIError(
                status: .unauthorized,
                message: "Incorrect API key provided: \(Self.redact(key)). You can find your API key at https://platform.openai.com/account/api-keys.",
                code: "invalid_api_key")
        }
    }

    static func redact(_ key: String) -> String {
        key.count <= 8 ? "sk-***" : "\(key.prefix(3))***\(key.suffix(4))"
    }

    static func error(for fault: StandInFault) -> APIError {
        switch fault.kind {
        case .rateLimit:
            let seconds = fault.retryAfter ?? 1
            var headers: [(String, String)] = [
                ("retry-after", seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)),
                ("x-ratelimit-limit-requests", "5"), ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", "\(seconds)s"),
            ]
            if let ms = fault.retryAfterMs { headers.append(("retry-after-ms", String(ms))) }
            return APIError(
                status: .tooManyRequests,
                message: "Rate limit reached for gpt-image in organization org-standin on images per min (IPM): Limit 5, Used 5, Requested 1. Please try again in \(seconds)s.",
                type: "requests", code: "rate_limit_exceeded", headers: headers)
        case .serverError:
            return APIError(
                status: HTTPResponseStatus(statusCode: fault.status ?? 500),
                message: "The server had an error while processing your request. Sorry about that!", type: "server_error")
        case .insufficientQuota:
            return APIError(
                status: .tooManyRequests,
                message: "You exceeded your current quota, please check your plan and billing details.",
                type: "insufficient_quota", code: fault.code ?? "insufficient_quota")
        case .unauthenticated:
            return APIError(
                status: .unauthorized,
                message: "Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.",
                code: "invalid_api_key")
        case .notVerified:
            return APIError(
                status: .forbidden,
                message: "Your organization must be verified to use the model `gpt-image-2`. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization.",
                code: "organization_must_be_verified")
        case .modelNotFound:
            return .modelNotFound("gpt-image-standin")
        case .moderationBlocked:
            return APIError(
                status: .badRequest,
                message: "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID. safety_violations=[violence].",
                type: "image_generation_user_error", code: "moderation_blocked",
                extraJSON: ["moderation_details": "{\"moderation_stage\":\"input\",\"categories\":[\"violence\"]}"])
        case .invalidRequest:
            let param = fault.param ?? "size"
            return .invalidValue(param, "Invalid value for '\(param)' (injected by the stand-in).")
        case .hang, .truncate, .streamError, .invalidJSON, .badBase64:
            return APIError(status: .internalServerError, message: "unexpected fault", type: "server_error")
        }
    }

    func recording(_ req: Request, parsed: ParsedCall?) -> RecordedRequest {
        var headers: [String: String] = [:]
        for (name, value) in req.headers where name.lowercased() != "authorization" {
            let key = name.lowercased()
            headers[key] = headers[key].map { "\($0), \(value)" } ?? value
        }
        let files: [RecordedFile] = (parsed?.files ?? []).map { part in
            let info = try? ImageProcessing.probe(part.data)
            let digest = SHA256.hash(data: part.data).map { String(format: "%02x", $0) }.joined()
            return RecordedFile(
                name: part.name, filename: part.filename, contentType: part.contentType, byteCount: part.data.count,
                sha256: digest, format: info?.format.rawValue, width: info?.width, height: info?.height,
                hasAlpha: info?.hasAlpha, data: part.data)
        }
        return RecordedRequest(
            index: 0, method: req.method.rawValue, path: req.url.path, contentType: req.headers.first(name: .contentType),
            headers: headers, authorizationPresent: req.headers.first(name: .authorization) != nil,
            json: parsed?.rawJSON, fields: parsed?.rawJSON == nil ? (parsed?.textFields ?? [:]) : [:], files: files)
    }

    // MARK: - Answers

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
        if options.noiseImages {
            return try ImageProcessing.synthesizeNoise(
                width: max(1, call.width / scale), height: max(1, call.height / scale), format: call.format,
                seed: Int32(truncatingIfNeeded: Self.seed(prompt: call.prompt, index: index, salt: salt)), grain: 2)
        }
        return try ImageProcessing.synthesize(
            width: max(1, call.width / scale), height: max(1, call.height / scale), format: call.format,
            seed: Self.seed(prompt: call.prompt, index: index, salt: salt), transparent: call.background == "transparent",
            compression: call.compression)
    }

    /// Usage by the stand-in's documented rule:
    /// - input text tokens = max(1, prompt characters / 4);
    /// - input image tokens = for each input image, 65 + 129 × (number of 512-px tiles covering it);
    /// - output image tokens = the registry's `output_tokens[quality][size]` per image (auto → high; a model without a
    ///   table uses its snapshot's or gpt-image-2's; xhigh = high × 1.5, max = high × 2; an unlisted size scales the
    ///   1024x1024 value by area) × n, plus `partial_image_output_tokens` (100) per streamed partial image.
    static func usage(for call: ValidatedCall, registry: ModelRegistry) -> String {
        let text = max(1, call.prompt.count / 4)
        let image = call.inputImages.reduce(0) { total, info in
            total + 65 + 129 * ((info.width + 511) / 512) * ((info.height + 511) / 512)
        }
        let perImage = outputTokens(model: call.model, quality: call.quality, width: call.width, height: call.height, registry: registry)
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
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        let text = String(decoding: data, as: UTF8.self)
        guard let usage else { return text }
        return "{\"usage\":\(usage)," + text.dropFirst()
    }

    func jsonImagesResponse(
        _ call: ValidatedCall, usage: String, requestID: String, truncate: Bool, started: ContinuousClock.Instant
    ) async throws -> Response {
        let service = self
        // Encoding is CPU work: keep it off the event loops.
        let images = try await NIOThreadPool.singleton.runIfActive {
            try (0..<call.n).map { try service.synthesize(call, index: $0) }
        }
        let meta: [String: Any] = [
            "created": Int(Date().timeIntervalSince1970), "background": call.background,
            "output_format": call.format.rawValue, "quality": call.quality, "size": "\(call.width)x\(call.height)",
        ]
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
        var headers = baseHeaders(requestID: requestID, contentType: "application/json")
        let elapsed = ContinuousClock.now - started
        headers.add(name: "openai-processing-ms", value: String(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
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
                                let error = "{\"type\":\"error\",\"error\":{\"message\":\"The server had an error while generating the image.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}"
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
                        let error = "{\"type\":\"error\",\"error\":{\"message\":\"The server had an error while generating the image.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}"
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
