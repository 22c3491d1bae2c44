import AsyncHTTPClient
import AtelierCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Reading what the upstream answered: JSON bodies decoded as they arrive, event streams event by event.
extension OpenAIImagesClient {
    /// Calls the upstream through AsyncHTTPClient's delegate API (`UpstreamAnswer`): a listening tap gets the head
    /// and each body part on the event loop as they arrive, paced by the caller; the decoding here reads the same
    /// buffers. Errors: before the head as the client threw them, while reading the body as `BodyError`, and a
    /// non-2xx answer mapped from its body; a cancelled task cancels the call.
    func execute(
        _ request: HTTPClient.Request, stream: Bool, eventPrefix: String, box: RequestIDBox, logger: Logger,
        tap: ProviderResponseTap? = nil, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws -> ProviderResult {
        let deadline = NIODeadline.now() + .nanoseconds(configuration.timeout.nanoseconds + 1_000_000_000)
        let answer = UpstreamAnswer(tap: tap, maxBytes: maxResponseBytes)
        // A forwarded answer is handled on the thread that writes it to the caller (`ProviderResponseTap.placement`),
        // over an idle connection of that loop when there is one (else any idle one, not a new connection and handshake).
        let loop: HTTPClient.EventLoopPreference = (tap?.placement as? any EventLoop).map { .delegate(on: $0) } ?? .indifferent
        let call = httpClient.execute(request: request, delegate: answer, eventLoop: loop, deadline: deadline, logger: logger)
        return try await withTaskCancellationHandler {
            defer { answer.stopReading(call) }
            return try await read(answer, stream: stream, eventPrefix: eventPrefix, box: box, onPartial: onPartial)
        } onCancel: {
            call.cancel()
        }
    }

    private func read(
        _ answer: UpstreamAnswer, stream: Bool, eventPrefix: String, box: RequestIDBox,
        onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws -> ProviderResult {
        var heads = answer.head.makeAsyncIterator()
        guard let response = try await heads.next() else { throw CancellationError() }
        let requestID = response.headers.first(name: "x-request-id")
        box.set(requestID: requestID, status: response.status)
        guard (200..<300).contains(response.status) else {
            let body: ByteBuffer
            do { body = try await answer.body.collect(upTo: 4 << 20) } catch { throw BodyError(underlying: error) }
            throw OpenAIErrorMapper.map(status: response.status, body: Data(body.readableBytesView), headers: response.headers)
        }
        let contentType = response.headers.first(name: "content-type") ?? "application/json"
        var result =
            if contentType.lowercased().contains("text/event-stream") {
                try await readStream(answer.body, eventPrefix: eventPrefix, requestID: requestID, onPartial: onPartial)
            } else {
                try ImagesResponseDecoder.decode(try await extractImages(from: answer.body, headers: response.headers))
            }
        result.requestID = requestID
        result.rateLimitReset = RetryAfter.exhaustedReset(from: response.headers)
        return result
    }

    /// The body's announced length, if the chunks the tap gets are those bytes (not decompressed from fewer).
    static func forwardedLength(_ headers: HTTPHeaders) -> Int? {
        guard (headers.first(name: "content-encoding") ?? "identity").lowercased() == "identity" else { return nil }
        return headers.first(name: "content-length").flatMap(Int.init)
    }

    /// Reads the body chunk by chunk, decoding each `b64_json` as it arrives: the body is never held whole.
    private func extractImages(from body: UpstreamAnswer.Body, headers: HTTPHeaders) async throws -> Base64FieldExtractor.Extracted {
        let length = headers.first(name: "content-length").flatMap(Int.init)
        if let length, length > maxResponseBytes { throw BodyError(underlying: NIOTooManyBytesError(maxBytes: maxResponseBytes)) }
        var extractor = Base64FieldExtractor(key: "b64_json", expectedBytes: length)
        do {
            for try await chunk in body { extractor.feed(chunk) }
        } catch { throw BodyError(underlying: error) }
        return extractor.finish()
    }

    private func readStream(
        _ body: UpstreamAnswer.Body, eventPrefix: String, requestID: String?,
        onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws -> ProviderResult {
        var parser = SSEParser()
        var result = ProviderResult(images: [], usage: nil, requestID: requestID)
        var iterator = body.makeAsyncIterator()
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
        _ event: SSEEvent, into result: inout ProviderResult, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws {
        let extracted = Base64FieldExtractor.extract(key: "b64_json", from: event.data)
        let payload: OpenAIWire.StreamEvent
        do { payload = try JSONDecoder().decode(OpenAIWire.StreamEvent.self, from: extracted.rest) } catch {
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
            await onPartial(ProviderPartialImage(index: payload.partial_image_index ?? 0, data: data))
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

/// Decodes a non-streaming `ImagesResponse` with one decoded copy of each image.
enum ImagesResponseDecoder {
    static func decode(_ body: ByteBuffer) throws(ProviderError) -> ProviderResult {
        try decode(Base64FieldExtractor.extract(key: "b64_json", from: body))
    }

    static func decode(_ extracted: Base64FieldExtractor.Extracted) throws(ProviderError) -> ProviderResult {
        let wire: OpenAIWire.ImagesResponse
        do { wire = try JSONDecoder().decode(OpenAIWire.ImagesResponse.self, from: extracted.rest) } catch {
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
        var result = ProviderResult(
            images: images, usage: wire.domainUsage, requestID: nil, size: wire.size, quality: wire.quality,
            background: wire.background, outputFormat: wire.output_format)
        result.created = wire.created
        return result
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
