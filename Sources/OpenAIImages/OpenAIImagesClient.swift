import AsyncHTTPClient
import AtelierCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The OpenAI Images API over one shared `HTTPClient` (never one per call).
public struct OpenAIImagesClient: Sendable {
    public let configuration: OpenAIConfiguration
    let httpClient: HTTPClient
    let logger: Logger
    /// Largest successful response body accepted (base64 of up to 10 large images).
    public var maxResponseBytes = 1 << 30

    public init(httpClient: HTTPClient, configuration: OpenAIConfiguration, logger: Logger = Logger(label: "atelier.openai-images")) {
        self.httpClient = httpClient
        self.configuration = configuration
        self.logger = logger
    }

    /// `POST /images/generations` (JSON). Streams when `fields.partialImages > 0`.
    public func generate(
        _ fields: ImagesRequestFields, onPartial: @escaping @Sendable (ImagesPartial) async -> Void = { _ in }
    ) async throws(ProviderError) -> ImagesResult {
        var object: [String: Any] = [:]
        for (name, value) in fields.wireFields(forEdit: false) {
            switch value {
            case .string(let s): object[name] = s
            case .int(let i): object[name] = i
            case .bool(let b): object[name] = b
            }
        }
        let json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw .invalidRequest(message: "cannot encode the request: \(error)", param: nil, code: nil)
        }
        return try await perform(
            path: "/images/generations", body: .bytes(ByteBuffer(bytes: json)), contentType: "application/json",
            stream: fields.streams, eventPrefix: "image_generation", onPartial: onPartial)
    }

    /// `POST /images/edits` (multipart): one image as part `image`, several as repeated `image[]`, plus `mask`, `markup`.
    public func edit(
        _ fields: ImagesRequestFields, images: [ImagesFile], mask: ImagesFile? = nil, markup: ImagesFile? = nil,
        onPartial: @escaping @Sendable (ImagesPartial) async -> Void = { _ in }
    ) async throws(ProviderError) -> ImagesResult {
        guard !images.isEmpty else {
            throw .invalidRequest(message: "an edit needs at least one image", param: "image", code: nil)
        }
        var multipart = MultipartBody()
        for (name, value) in fields.wireFields(forEdit: true) { multipart.addText(name, value.text) }
        let imagePart = images.count == 1 ? "image" : "image[]"
        for (index, image) in images.enumerated() {
            multipart.addFile(imagePart, ImageMIME.normalized(image, fallbackName: "image\(index)"))
        }
        if let mask { multipart.addFile("mask", ImageMIME.normalized(mask, fallbackName: "mask")) }
        if let markup { multipart.addFile("markup", ImageMIME.normalized(markup, fallbackName: "markup")) }
        // Streamed: the files are read from disk (or memory) as the connection takes them.
        return try await perform(
            path: "/images/edits", body: .stream(multipart.stream(), length: .known(Int64(multipart.byteCount))),
            contentType: multipart.contentType,
            stream: fields.streams, eventPrefix: "image_edit", onPartial: onPartial)
    }

    // MARK: - Transport

    private struct TimedOut: Error {}

    /// An error while reading the body after the head arrived.
    private struct BodyError: Error { var underlying: any Error }

    private func makeRequest(path: String, body: HTTPClientRequest.Body, contentType: String, stream: Bool) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.apiKey)")
        if let organization = configuration.organization { request.headers.add(name: "OpenAI-Organization", value: organization) }
        if let project = configuration.project { request.headers.add(name: "OpenAI-Project", value: project) }
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: stream ? "text/event-stream" : "application/json")
        request.headers.add(name: "User-Agent", value: "Atelier/1.0 (OpenAIImages)")
        request.body = body
        return request
    }

    private func perform(
        path: String, body: HTTPClientRequest.Body, contentType: String, stream: Bool, eventPrefix: String,
        onPartial: @escaping @Sendable (ImagesPartial) async -> Void
    ) async throws(ProviderError) -> ImagesResult {
        let request = makeRequest(path: path, body: body, contentType: contentType, stream: stream)
        let started = ContinuousClock.now
        let timeout = configuration.timeout
        let box = RequestIDBox()
        var logger = self.logger
        logger[metadataKey: "openai_path"] = "\(path)"
        let log = logger
        do {
            let result = try await withThrowingTaskGroup(of: ImagesResult.self) { group in
                group.addTask {
                    try await self.execute(
                        request, stream: stream, eventPrefix: eventPrefix, box: box, logger: log, onPartial: onPartial)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw TimedOut()
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            log.info(
                "openai images call succeeded",
                metadata: [
                    "request_id": "\(result.requestID ?? "-")", "status": "200",
                    "latency_ms": "\(Self.milliseconds(since: started))", "images": "\(result.images.count)",
                ])
            return result
        } catch {
            let mapped = Self.map(error)
            log.warning(
                "openai images call failed",
                metadata: [
                    "request_id": "\(box.requestID ?? "-")", "status": "\(box.status.map(String.init) ?? "-")",
                    "latency_ms": "\(Self.milliseconds(since: started))", "error": "\(mapped.code)",
                ])
            throw mapped
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    static func map(_ error: any Error) -> ProviderError {
        if let error = error as? ProviderError { return error }
        if error is TimedOut { return .timeout }
        if Task.isCancelled || error is CancellationError { return .canceled }
        if let body = error as? BodyError {
            if let http = body.underlying as? HTTPClientError {
                switch http {
                case .readTimeout, .deadlineExceeded: return .timeout
                case .cancelled: return .canceled
                default: break
                }
            }
            if body.underlying is CancellationError { return .canceled }
            return .invalidResponse(message: "the response body was cut short (\(body.underlying))")
        }
        if let http = error as? HTTPClientError {
            switch http {
            case .readTimeout, .deadlineExceeded, .writeTimeout: return .timeout
            case .cancelled: return .canceled
            default: return .connection(message: "\(http)")
            }
        }
        return .connection(message: "\(error)")
    }

    private func execute(
        _ request: HTTPClientRequest, stream: Bool, eventPrefix: String, box: RequestIDBox, logger: Logger,
        onPartial: @escaping @Sendable (ImagesPartial) async -> Void
    ) async throws -> ImagesResult {
        let deadline = NIODeadline.now() + .nanoseconds(configuration.timeout.nanoseconds + 1_000_000_000)
        let response = try await httpClient.execute(request, deadline: deadline, logger: logger)
        let requestID = response.headers.first(name: "x-request-id")
        box.set(requestID: requestID, status: Int(response.status.code))
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let body: ByteBuffer
            do { body = try await response.body.collect(upTo: 4 << 20) } catch { throw BodyError(underlying: error) }
            throw OpenAIErrorMapper.map(status: status, body: Data(body.readableBytesView), headers: response.headers)
        }
        let isEventStream = response.headers.first(name: "content-type")?.lowercased().contains("text/event-stream") ?? false
        if isEventStream {
            return try await readStream(response, eventPrefix: eventPrefix, requestID: requestID, onPartial: onPartial)
        }
        var result = try ImagesResponseDecoder.decode(try await extractImages(from: response))
        result.requestID = requestID
        return result
    }

    /// Reads the body chunk by chunk, decoding each `b64_json` as it arrives: the body is never held whole.
    private func extractImages(from response: HTTPClientResponse) async throws -> Base64FieldExtractor.Extracted {
        let length = response.headers.first(name: "content-length").flatMap(Int.init)
        if let length, length > maxResponseBytes { throw BodyError(underlying: NIOTooManyBytesError(maxBytes: maxResponseBytes)) }
        var extractor = Base64FieldExtractor(key: "b64_json", expectedBytes: length)
        var received = 0
        do {
            for try await chunk in response.body {
                received += chunk.readableBytes
                guard received <= maxResponseBytes else { throw NIOTooManyBytesError(maxBytes: maxResponseBytes) }
                extractor.feed(chunk)
            }
        } catch { throw BodyError(underlying: error) }
        return extractor.finish()
    }

    private func readStream(
        _ response: HTTPClientResponse, eventPrefix: String, requestID: String?,
        onPartial: @escaping @Sendable (ImagesPartial) async -> Void
    ) async throws -> ImagesResult {
        var parser = SSEParser()
        var result = ImagesResult(images: [], requestID: requestID)
        var iterator = response.body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do { chunk = try await iterator.next() } catch { throw BodyError(underlying: error) }
            let events = chunk.map { parser.feed($0) } ?? parser.finish()
            for event in events {
                try await handle(event, into: &result, onPartial: onPartial)
            }
            if chunk == nil || parser.isFinished { break }
        }
        guard !result.images.isEmpty else {
            throw ProviderError.invalidResponse(message: "the event stream ended without a completed event")
        }
        return result
    }

    private func handle(
        _ event: SSEEvent, into result: inout ImagesResult, onPartial: @escaping @Sendable (ImagesPartial) async -> Void
    ) async throws {
        let extracted = Base64FieldExtractor.extract(key: "b64_json", from: event.data)
        let payload: WireStreamEvent
        do { payload = try JSONDecoder().decode(WireStreamEvent.self, from: extracted.rest) } catch {
            throw ProviderError.invalidResponse(message: "an event is not valid JSON")
        }
        if let error = payload.error {
            throw OpenAIErrorMapper.map(status: nil, error: error, headers: [:])
        }
        let type = payload.type ?? event.event ?? ""
        if type == "error" {
            throw ProviderError.serverError(status: 500, message: "the upstream sent an error event")
        }
        if type.hasSuffix(".partial_image") {
            guard let first = extracted.blobs.first, let data = first, !data.isEmpty else {
                throw ProviderError.invalidResponse(message: "a partial image is not valid base64")
            }
            await onPartial(ImagesPartial(index: payload.partial_image_index ?? 0, data: data))
        } else if type.hasSuffix(".completed") {
            guard let first = extracted.blobs.first, let data = first, !data.isEmpty else {
                throw ProviderError.invalidResponse(message: "a completed image is missing or not valid base64")
            }
            result.images.append(data)
            result.created = payload.created_at ?? result.created
            result.background = payload.background ?? result.background
            result.outputFormat = payload.output_format ?? result.outputFormat
            result.quality = payload.quality ?? result.quality
            result.size = payload.size ?? result.size
            // The API's usage per completed event is the call's usage; keep the latest.
            if let usage = payload.usage { result.usage = usage.domain }
        }
        // Unknown event types are ignored, as the SDK does.
    }
}

extension ImagesResult {
    init(images: [Data], requestID: String?) {
        self.init(
            created: nil, images: images, background: nil, outputFormat: nil, quality: nil, size: nil, usage: nil,
            requestID: requestID)
    }
}

/// Decodes a non-streaming `ImagesResponse` with one decoded copy of each image.
enum ImagesResponseDecoder {
    static func decode(_ body: ByteBuffer) throws(ProviderError) -> ImagesResult {
        try decode(Base64FieldExtractor.extract(key: "b64_json", from: body))
    }

    static func decode(_ extracted: Base64FieldExtractor.Extracted) throws(ProviderError) -> ImagesResult {
        let wire: WireImagesResponse
        do { wire = try JSONDecoder().decode(WireImagesResponse.self, from: extracted.rest) } catch {
            throw .invalidResponse(message: "the response is not valid JSON (\(extracted.rest.count) bytes besides the images)")
        }
        guard let items = wire.data, !items.isEmpty else {
            throw .invalidResponse(message: "the response has no images")
        }
        guard extracted.blobs.count == items.count else {
            throw .invalidResponse(message: "an image in the response has no b64_json")
        }
        var images: [Data] = []
        images.reserveCapacity(items.count)
        for blob in extracted.blobs {
            guard let data = blob, !data.isEmpty else {
                throw .invalidResponse(message: "an image in the response is not valid base64")
            }
            images.append(data)
        }
        return ImagesResult(
            created: wire.created, images: images, background: wire.background, outputFormat: wire.output_format,
            quality: wire.quality, size: wire.size, usage: wire.usage?.domain, requestID: nil)
    }
}

/// Remembers the request id and status for logging a failure.
final class RequestIDBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _requestID: String?
    private var _status: Int?

    func set(requestID: String?, status: Int) {
        lock.withLock {
            _requestID = requestID
            _status = status
        }
    }

    var requestID: String? { lock.withLock { _requestID } }
    var status: Int? { lock.withLock { _status } }
}
