import AtelierCore
import Foundation
import NIOCore
import Vapor

/// The Files upload, batch creation and the execution of one batch line (validated like a direct request).
extension StandInBatchRoutes {
    func upload(_ req: Request) async throws -> [String: Any] {
        let parsed = try StandInParser.parseMultipart(req.body.data, contentType: req.headers.contentType)
        for name in parsed.params.keys where name != "purpose" { throw APIError.unknownParameter(name) }
        guard let purpose = try parsed.string("purpose") else { throw APIError.missing("purpose") }
        guard Self.purposes.contains(purpose) else {
            throw APIError.invalidValue(
                "purpose",
                "Invalid value for 'purpose': '\(purpose)'. Supported values are: \(Self.purposes.map { "'\($0)'" }.joined(separator: ", "))."
            )
        }
        guard parsed.files.count == 1, let part = parsed.files.first, part.name == "file" else {
            throw parsed.files.first.map { APIError.unknownParameter($0.name) } ?? APIError.missing("file")
        }
        let filename = part.filename ?? "file"
        if purpose == "batch", !filename.lowercased().hasSuffix(".jsonl") {
            throw APIError.invalidValue("file", "Invalid file format for Batch API. Must be .jsonl")
        }
        return await store.addFile(filename: filename, purpose: purpose, data: part.data).json
    }

    func create(_ req: Request) async throws -> [String: Any] {
        guard let data = req.body.data,
            let object = (try? JSONSerialization.jsonObject(with: Data(data.readableBytesView))) as? [String: Any]
        else {
            throw APIError(
                status: .badRequest, message: "We could not parse the JSON body of your request. The OpenAI API expects a JSON object.")
        }
        for key in object.keys where !["input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"].contains(key) {
            throw APIError.unknownParameter(key)
        }
        guard let fileID = object["input_file_id"] as? String else { throw APIError.missing("input_file_id") }
        guard let endpoint = object["endpoint"] as? String else { throw APIError.missing("endpoint") }
        guard Self.endpoints.contains(endpoint) else {
            throw APIError.invalidValue(
                "endpoint", "Invalid value for 'endpoint': '\(endpoint)'. This stand-in supports \(Self.endpoints.joined(separator: ", "))."
            )
        }
        guard let window = object["completion_window"] as? String else { throw APIError.missing("completion_window") }
        guard window == "24h" else {
            throw APIError.invalidValue(
                "completion_window", "Invalid value for 'completion_window': '\(window)'. Supported values are: '24h'.")
        }
        var metadata: [String: String]?
        if let raw = object["metadata"], !(raw is NSNull) {
            guard let pairs = raw as? [String: Any], pairs.count <= 16,
                let strings = pairs as? [String: String],
                strings.allSatisfy({ $0.key.count <= 64 && $0.value.count <= 512 })
            else {
                throw APIError.invalidValue(
                    "metadata", "Invalid 'metadata': at most 16 pairs, string keys of up to 64 characters and string values of up to 512.")
            }
            metadata = strings
        }
        guard let file = await store.file(fileID) else { throw Self.noFile(fileID) }
        guard file.purpose == "batch" else {
            throw APIError.invalidValue("input_file_id", "The file \(fileID) was not uploaded with purpose 'batch'.")
        }
        let batch = StandInBatch(
            id: StandInBatchStore.makeID("batch_"), endpoint: endpoint, inputFileID: fileID, completionWindow: window,
            metadata: metadata, createdAt: StandInBatchStore.now())
        await store.create(batch)
        return batch.json
    }

    /// Runs one line through the same path as a direct call (record → fault → validate → answer), without streaming.
    func execute(_ line: StandInBatchLine, endpoint path: String) async -> StandInBatchResult {
        let requestID = StandInService.makeRequestID()
        let endpoint: Endpoint = path.hasSuffix("/edits") ? .edits : .generations
        var result = StandInBatchResult(customID: line.customID, statusCode: 200, requestID: requestID)
        do {
            let parsed = try StandInParser.parseJSON(ByteBuffer(data: line.body))
            let index = await service.state.record(
                RecordedRequest(
                    index: 0, method: "POST", path: path, contentType: "application/json", headers: ["x-batch-custom-id": line.customID],
                    authorizationPresent: true, json: line.body, fields: [:], files: []),
                endpoint: endpoint)
            service.options.onRequestRecorded?(index)
            if let fault = await service.state.takeFault(for: endpoint) {
                throw StandInService.error(for: fault.kind == .hang || fault.kind == .truncate ? StandInFault(kind: .serverError) : fault)
            }
            let call = try StandInValidator(registry: service.registry).validate(parsed, endpoint: endpoint)
            if call.stream { throw APIError.invalidValue("stream", "Streaming is not supported in the Batch API.") }
            let usage = StandInService.usage(for: call, registry: service.registry)
            result.body = Data(try await service.imagesResponseBody(call, usage: usage).readableBytesView)
        } catch let error as APIError {
            result.statusCode = Int(error.status.code)
            result.body = Data(error.body().readableBytesView)
        } catch {
            let failure = APIError(status: .internalServerError, message: "The stand-in failed: \(error)", type: "server_error")
            result.statusCode = 500
            result.body = Data(failure.body().readableBytesView)
        }
        return result
    }
}
