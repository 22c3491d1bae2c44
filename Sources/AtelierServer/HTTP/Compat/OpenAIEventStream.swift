import AtelierCore
import Fluent
import Foundation
import OpenAIImages
import Vapor

/// `stream=true` on the OpenAI-compatible routes: the job's partial previews as `<prefix>.partial_image` events as
/// they are stored, then one `<prefix>.completed` event per image with the usage, or an `error` event.
struct OpenAIEventStream {
    let req: Request
    let jobID: UUID
    let prefix: String
    let maxWaitSeconds: Double

    func response() -> Response {
        let response = Response(status: .ok)
        response.headers.replaceOrAdd(name: .contentType, value: "text/event-stream; charset=utf-8")
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-cache")
        let req = self.req, jobID = self.jobID, prefix = self.prefix, seconds = self.maxWaitSeconds
        response.body = .init(asyncStream: { writer in
            let hub = req.atelier.hub
            let (subscription, live) = await hub.subscribe(.init(owner: nil, jobID: jobID))
            let timeout = Task {
                try? await Task.sleep(for: .seconds(seconds))
                await hub.unsubscribe(subscription)
            }
            defer { timeout.cancel() }
            var sent = Set<UUID>()
            do {
                // What happened before we subscribed, then every change until the job ends.
                if try await Self.emit(req: req, jobID: jobID, prefix: prefix, sent: &sent, writer: writer) { return await finish() }
                for await _ in live {
                    if try await Self.emit(req: req, jobID: jobID, prefix: prefix, sent: &sent, writer: writer) { break }
                }
            } catch {
                await hub.unsubscribe(subscription)
                try? await writer.write(.error(error))
                return
            }
            await finish()

            func finish() async {
                await hub.unsubscribe(subscription)
                try? await writer.write(.end)
            }
        })
        return response
    }

    /// Writes the partials not sent yet, and the ending when the job has ended; true once it has.
    private static func emit(
        req: Request, jobID: UUID, prefix: String, sent: inout Set<UUID>, writer: any AsyncBodyStreamWriter
    ) async throws -> Bool {
        guard let job = try await JobRecord.find(jobID, on: req.db) else { return true }
        let store = ImageStore(database: req.db, blobs: req.atelier.blobs, clock: req.atelier.clock)
        let result = job.result
        func event(_ type: String, _ image: ImageRecord, partial: Int? = nil, usage: Usage? = nil) async throws -> ByteBuffer {
            let body = OpenAIWire.StreamEvent(
                type: type, b64_json: try await store.data(of: image).base64EncodedString(), created_at: Int(image.createdAt),
                size: result?.size ?? job.params.size, quality: result?.quality ?? job.params.quality,
                background: result?.background ?? job.params.background,
                output_format: result?.outputFormat ?? job.params.outputFormat, partial_image_index: partial,
                usage: usage.map(OpenAIWire.Usage.init))
            return frame(type, body)
        }
        let partials = try await ImageRecord.query(on: req.db).filter(\.$job.$id == jobID)
            .filter(\.$role == ImageRecord.Role.partial.rawValue).sort(\.$createdAt).all()
        for image in partials where !sent.contains(image.id ?? UUID()) {
            sent.insert(image.id ?? UUID())
            try await writer.write(.buffer(try await event("\(prefix).partial_image", image, partial: image.index)))
        }
        switch try job.jobStatus {
        case .queued, .running:
            return false
        case .succeeded:
            let outputs = try await OpenAICompatibleController.outputs(of: job, on: req)
            for image in outputs {
                try await writer.write(.buffer(try await event("\(prefix).completed", image, usage: job.usage)))
            }
        case .failed, .canceled:
            let error = OpenAIErrorAnswer(failed: job).detail
            try await writer.write(.buffer(frame("error", OpenAIWire.StreamEvent(type: "error", error: error))))
        }
        return true
    }

    private static func frame(_ type: String, _ body: some Encodable) -> ByteBuffer {
        let json = (try? JSONEncoder.api.encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ByteBuffer(string: "event: \(type)\ndata: \(json)\n\n")
    }
}
