import AtelierCore
import Crypto
import Foundation
import ImageProcessing
import Vapor

/// An OpenAI-compatible Images API stand-in: same wire format, strict validation, synthetic images,
/// injectable faults and request inspection. Mount it on any Vapor `Application`.
public enum OpenAIStandIn {
    /// Registers the stand-in's routes (`/v1/images/*`, `/v1/models`, `/_standin/*`) on `app`.
    public static func configure(_ app: Application, options: StandInOptions) throws {
        let registry = try options.registry ?? ModelRegistry.bundled()
        let service = StandInService(
            options: options, registry: registry,
            state: StandInState(maxFileBytes: options.maxRecordedFileBytes, maxRequests: options.maxRecordedRequests),
            limiter: StandInRateLimiter(
                limit: options.imagesPerWindow, window: options.rateWindowSeconds, quotaExhausted: options.quotaExhausted))

        app.on(.POST, "v1", "images", "generations", body: .collect(maxSize: "64mb")) { req async -> Response in
            await service.handle(req, endpoint: .generations)
        }
        app.on(.POST, "v1", "images", "edits", body: .collect(maxSize: "900mb")) { req async -> Response in
            await service.handle(req, endpoint: .edits)
        }
        StandInModelList(registry: registry).register(on: app, service: service)
        StandInBatchRoutes(service: service, store: StandInBatchStore(linesPerPoll: options.batchLinesPerPoll)).register(on: app)
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
                request = try JSONDecoder().decode(
                    StandInFaultRequest.self, from: Data(req.body.data?.readableBytesView ?? ByteBuffer().readableBytesView))
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
        app.on(.POST, "_standin", "quota", body: .collect(maxSize: "64kb")) { req async -> Response in
            struct Body: Decodable { var exhausted: Bool; var key: String? }
            guard
                let body = try? JSONDecoder().decode(
                    Body.self, from: Data(req.body.data?.readableBytesView ?? ByteBuffer().readableBytesView))
            else {
                return APIError(status: .badRequest, message: "Body must be {\"exhausted\": bool, \"key\"?: string}.")
                    .response(requestID: "req_standin")
            }
            await service.limiter.setQuota(exhausted: body.exhausted, key: body.key)
            return jsonResponse(Data("{\"exhausted\":\(body.exhausted)}".utf8))
        }
        app.get("_standin", "limits") { _ async -> Response in
            jsonResponse(await service.limiter.json())
        }
        app.post("_standin", "release") { _ async -> Response in
            jsonResponse(Data("{\"released\":\(await service.stalls.releaseAll())}".utf8))
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
    let limiter: StandInRateLimiter
    let imageCache = StandInImageCache()
    let stalls = StandInStalls()

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
            parsed =
                try endpoint == .generations
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
            var stall: StandInFault?
            if let fault = await state.takeFault(for: endpoint) {
                switch fault.kind {
                case .hang: try? await Task.sleep(for: .seconds(fault.seconds ?? 30))
                case .truncate: truncate = true
                case .streamError: streamError = true
                case .stall: stall = fault
                case .invalidJSON:
                    return rawResponse(
                        status: .ok, body: "{\"created\": 1, \"data\": [{\"b64_json\": \"iVBOR", requestID: requestID,
                        contentType: "application/json", honestLength: true)
                case .badBase64:
                    return rawResponse(
                        status: .ok, body: "{\"created\":1,\"data\":[{\"b64_json\":\"***not base64***\"}],\"output_format\":\"png\"}",
                        requestID: requestID, contentType: "application/json", honestLength: true)
                default: throw Self.error(for: fault)
                }
            }
            if let parseError { throw parseError }
            let call = try StandInValidator(registry: registry).validate(parsed!, endpoint: endpoint)
            let key = Self.bearer(req) ?? ""
            if await limiter.isOutOfQuota(key: key) { throw Self.error(for: StandInFault(kind: .insufficientQuota)) }
            let limitHeaders = try await limiter.take(key: key, images: call.n, model: call.model.id).get()
            if streamError && !call.stream {
                throw APIError(
                    status: .internalServerError, message: "The server had an error while processing your request. Sorry about that!",
                    type: "server_error")
            }
            let usage = Self.usage(for: call, registry: registry)
            let response =
                if call.stream {
                    streamResponse(call, usage: usage, requestID: requestID, truncate: truncate, streamError: streamError)
                } else {
                    try await jsonImagesResponse(
                        call, usage: usage, requestID: requestID, truncate: truncate, stall: stall, started: started)
                }
            for (name, value) in limitHeaders { response.headers.add(name: name, value: value) }
            return response
        } catch let error as APIError {
            return error.response(requestID: requestID)
        } catch {
            return APIError(
                status: .internalServerError, message: "The stand-in failed: \(error)", type: "server_error"
            ).response(requestID: requestID)
        }
    }

    static func bearer(_ req: Request) -> String? {
        let header = req.headers.first(name: .authorization) ?? ""
        return header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
    }

    func authorize(_ req: Request) throws(APIError) {
        let key = Self.bearer(req)
        guard let key, !key.isEmpty else {
            throw APIError(
                status: .unauthorized,
                message:
                    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code: "invalid_api_key")
        }
        if let expected = options.apiKey.map({ Set([$0]) }) ?? options.apiKeys, !expected.contains(key) {
            throw APIError(
                status: .unauthorized,
                message:
                    "Incorrect API key provided: \(Self.redact(key)). You can find your API key at https://platform.openai.com/account/api-keys.",
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
                message:
                    "Rate limit reached for gpt-image in organization org-standin on images per min (IPM): Limit 5, Used 5, Requested 1. Please try again in \(seconds)s.",
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
                message:
                    "Your organization must be verified to use the model `gpt-image-2`. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization.",
                code: "organization_must_be_verified")
        case .modelNotFound:
            return .modelNotFound("gpt-image-standin")
        case .moderationBlocked:
            return APIError(
                status: .badRequest,
                message:
                    "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID. safety_violations=[violence].",
                type: "image_generation_user_error", code: "moderation_blocked",
                extraJSON: ["moderation_details": "{\"moderation_stage\":\"input\",\"categories\":[\"violence\"]}"])
        case .invalidRequest:
            let param = fault.param ?? "size"
            return .invalidValue(param, "Invalid value for '\(param)' (injected by the stand-in).")
        case .hang, .truncate, .streamError, .invalidJSON, .badBase64, .stall:
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
}
