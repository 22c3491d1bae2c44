import AsyncHTTPClient
import AtelierCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// OpenAI's Files and Batch APIs over the one shared `HTTPClient`: upload a JSONL input file, create, read and
/// cancel a batch, and read an output file line by line without holding it whole. The key is sent only in the
/// Authorization header and never logged.
public struct OpenAIBatchesClient: Sendable {
    public let configuration: OpenAIConfiguration
    let httpClient: HTTPClient
    let logger: Logger
    /// Longest output line accepted (one line holds every image of one request, base64-encoded).
    public var maxLineBytes = 512 << 20

    public init(httpClient: HTTPClient, configuration: OpenAIConfiguration, logger: Logger = Logger(label: "atelier.openai-batches")) {
        self.httpClient = httpClient
        self.configuration = configuration
        self.logger = logger
    }

    /// `POST /files` with `purpose=batch`; the JSONL file is streamed from `bytes` (memory or disk).
    public func uploadBatchInput(filename: String, bytes: ImageBytes) async throws(ProviderError) -> OpenAIFileObject {
        var multipart = MultipartBody()
        multipart.addText("purpose", "batch")
        multipart.addFile("file", ImageUpload(filename: filename, contentType: "application/jsonl", bytes: bytes))
        return try await call(
            .POST, "/files", body: .stream(multipart.stream(), length: .known(Int64(multipart.byteCount))),
            contentType: multipart.contentType)
    }

    /// `POST /batches` for `endpoint` (e.g. "/v1/images/generations") with a 24 h window.
    public func createBatch(inputFileID: String, endpoint: String, metadata: [String: String] = [:]) async throws(ProviderError)
        -> OpenAIBatch
    {
        var object: [String: Any] = ["input_file_id": inputFileID, "endpoint": endpoint, "completion_window": "24h"]
        if !metadata.isEmpty { object["metadata"] = metadata }
        let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return try await call(.POST, "/batches", body: .bytes(ByteBuffer(bytes: json)), contentType: "application/json")
    }

    public func batch(_ id: String) async throws(ProviderError) -> OpenAIBatch {
        try await call(.GET, "/batches/\(Self.escaped(id))")
    }

    /// `GET /batches?after=&limit=` (newest first).
    public func listBatches(after: String? = nil, limit: Int = 100) async throws(ProviderError) -> OpenAIBatchList {
        var query = "limit=\(limit)"
        if let after { query += "&after=\(Self.escaped(after))" }
        return try await call(.GET, "/batches?\(query)")
    }

    public func cancelBatch(_ id: String) async throws(ProviderError) -> OpenAIBatch {
        try await call(.POST, "/batches/\(Self.escaped(id))/cancel")
    }

    public func deleteFile(_ id: String) async throws(ProviderError) {
        struct Deleted: Decodable { var deleted: Bool }
        let _: Deleted = try await call(.DELETE, "/files/\(Self.escaped(id))")
    }

    /// `GET /files/{id}/content`, handing each non-empty line to `body` as it arrives (memory: one line plus one chunk).
    public func forEachLine(ofFile id: String, _ body: (Data) async throws -> Void) async throws {
        let response = try await send(.GET, "/files/\(Self.escaped(id))/content", body: nil, contentType: nil)
        var splitter = LineSplitter(maxLineBytes: maxLineBytes)
        for try await chunk in response.body {
            for line in try splitter.feed(chunk) { try await body(line) }
        }
        if let last = splitter.finish() { try await body(last) }
    }

    static func escaped(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_"))) ?? id
    }

    private func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: HTTPClientRequest.Body? = nil, contentType: String? = nil
    ) async throws(ProviderError) -> Answer {
        do {
            let response = try await send(method, path, body: body, contentType: contentType)
            let data = try await response.body.collect(upTo: 16 << 20)
            return try JSONDecoder().decode(Answer.self, from: Data(data.readableBytesView))
        } catch let error as ProviderError {
            throw error
        } catch is DecodingError {
            throw .invalidResponse(message: "the \(method.rawValue) \(path) answer is not the documented JSON")
        } catch {
            throw OpenAIImagesClient.map(error)
        }
    }

    /// Sends one request and returns the response when its status is 2xx (otherwise throws the mapped error).
    private func send(_ method: HTTPMethod, _ path: String, body: HTTPClientRequest.Body?, contentType: String?) async throws
        -> HTTPClientResponse
    {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.apiKey)")
        if let organization = configuration.organization { request.headers.add(name: "OpenAI-Organization", value: organization) }
        if let project = configuration.project { request.headers.add(name: "OpenAI-Project", value: project) }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        request.headers.add(name: "User-Agent", value: "Atelier/1.0 (OpenAIBatches)")
        if let body { request.body = body }
        let deadline = NIODeadline.now() + .nanoseconds(configuration.timeout.nanoseconds)
        let response = try await httpClient.execute(request, deadline: deadline, logger: logger)
        let status = Int(response.status.code)
        let requestID = response.headers.first(name: "x-request-id") ?? "-"
        guard (200..<300).contains(status) else {
            let data = try await response.body.collect(upTo: 4 << 20)
            var mapped = OpenAIErrorMapper.map(status: status, body: Data(data.readableBytesView), headers: response.headers)
            // A 404 here is a missing file or batch, not a missing model.
            if status == 404, case .modelNotFound(let message) = mapped {
                mapped = .invalidRequest(message: message, param: nil, code: "not_found")
            }
            logger.warning(
                "openai batches call failed",
                metadata: [
                    "path": "\(method.rawValue) \(path)", "status": "\(status)", "request_id": "\(requestID)", "error": "\(mapped.code)",
                ])
            throw mapped
        }
        logger.debug(
            "openai batches call", metadata: ["path": "\(method.rawValue) \(path)", "status": "\(status)", "request_id": "\(requestID)"])
        return response
    }
}
