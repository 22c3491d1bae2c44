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
        _ fields: ImagesRequestFields, tap: ProviderResponseTap? = nil,
        onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void = { _ in }
    ) async throws(ProviderError) -> ProviderResult {
        let json = try Self.generationsBody(fields)
        return try await perform(
            path: "/images/generations", body: .byteBuffer(ByteBuffer(bytes: json)), contentType: "application/json",
            stream: fields.streams, eventPrefix: "image_generation", tap: tap, onPartial: onPartial)
    }

    /// `POST /images/edits` (multipart): one image as part `image`, several as repeated `image[]`, plus `mask`, `markup`.
    public func edit(
        _ fields: ImagesRequestFields, images: [ImageUpload], mask: ImageUpload? = nil, markup: ImageUpload? = nil,
        tap: ProviderResponseTap? = nil, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void = { _ in }
    ) async throws(ProviderError) -> ProviderResult {
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
            path: "/images/edits", body: multipart.requestBody(),
            contentType: multipart.contentType,
            stream: fields.streams, eventPrefix: "image_edit", tap: tap, onPartial: onPartial)
    }

    /// The JSON body of `POST /images/generations` for `fields` (also a Batch API line's `body`): written by hand
    /// (`ImagesRequestFields.generationsJSON`), the bytes `JSONSerialization` with sorted keys gave.
    public static func generationsBody(_ fields: ImagesRequestFields) throws(ProviderError) -> Data {
        Data(fields.generationsJSON)
    }

    // MARK: - Transport

    private struct TimedOut: Error {}

    /// An error while reading the body after the head arrived.
    struct BodyError: Error { var underlying: any Error }

    private func makeRequest(path: String, body: HTTPClient.Body, contentType: String, stream: Bool) throws -> HTTPClient.Request {
        var request = try HTTPClient.Request(url: configuration.baseURL + path, method: .POST)
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
        path: String, body: HTTPClient.Body, contentType: String, stream: Bool, eventPrefix: String,
        tap: ProviderResponseTap?, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) -> ProviderResult {
        let started = ContinuousClock.now
        let timeout = configuration.timeout
        let box = RequestIDBox()
        var logger = self.logger
        logger[metadataKey: "openai_path"] = "\(path)"
        let log = logger
        do {
            let request = try makeRequest(path: path, body: body, contentType: contentType, stream: stream)
            let result = try await withThrowingTaskGroup(of: ProviderResult.self) { group in
                group.addTask {
                    try await self.execute(
                        request, stream: stream, eventPrefix: eventPrefix, box: box, logger: log, tap: tap,
                        onPartial: onPartial)
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
}
