import AtelierCore
import Fluent
import Foundation
import OpenAIImages
import Vapor

/// OpenAI's Images API on Atelier: `POST /v1/images/generations` (JSON) and `POST /v1/images/edits` (multipart)
/// take what the official SDKs send — with an Atelier API key as the bearer token — and run as ordinary jobs
/// (validation, limits, caps, history, exact cost), answering in OpenAI's shapes: `ImagesResponse`, or with
/// `stream=true` the `*.partial_image` / `*.completed` event stream. `x-atelier-job-id` names the job.
struct OpenAICompatibleController: RouteCollection {
    /// How long a call waits for its job (retries included) before answering 504 with the job id.
    static let maxWaitSeconds = 900.0

    func boot(routes: any RoutesBuilder) throws {
        let images = routes.grouped(OpenAIErrorShape()).grouped("images")
        images.post("generations", use: generations)
        images.on(.POST, "edits", body: .stream, use: edits)
    }

    struct GenerationBody: Decodable {
        var stream: Bool?
        var response_format: String?
    }

    // Admission runs in a task; the answer then completes on the request's event loop (`UpstreamPassThrough.first`),
    // so a forwarded head needs no task to resume when it arrives.
    @Sendable func generations(req: Request) -> EventLoopFuture<Response> {
        req.eventLoop.makeFutureWithTask {
            FastPathTrace.mark("entered", job: nil, logger: req.logger)
            let extra = try req.content.decode(GenerationBody.self)
            try Self.refuseURLFormat(extra.response_format)
            let input = try req.content.decode(ImageRequestInput.self, using: JSONDecoder())
            let new = try await JobCreation(req: req, compatCaller: true).generate(input)
            return (new.job, extra.stream == true)
        }.flatMap { job, stream in answer(req, job: job, stream: stream, prefix: "image_generation") }
    }

    @Sendable func edits(req: Request) -> EventLoopFuture<Response> {
        req.eventLoop.makeFutureWithTask {
            let (new, upload) = try await JobCreation(req: req, compatCaller: true).edit { upload in
                try Self.refuseURLFormat(upload.field("response_format"))
            }
            return (new.job, ["true", "1"].contains(upload.field("stream")?.lowercased() ?? ""))
        }.flatMap { job, stream in answer(req, job: job, stream: stream, prefix: "image_edit") }
    }

    /// GPT image models always answer with base64 (`b64_json`), as OpenAI does.
    static func refuseURLFormat(_ format: String?) throws {
        guard let format, format != "b64_json" else { return }
        throw APIError.invalid("response_format", "GPT image models always return b64_json; leave response_format out.")
    }

    private func answer(_ req: Request, job: JobRecord, stream: Bool, prefix: String) -> EventLoopFuture<Response> {
        let jobID: UUID
        do { jobID = try job.requireID() } catch { return req.eventLoop.makeFailedFuture(error) }
        return UpstreamPassThrough.first(req, jobID: jobID, wantsEventStream: stream, seconds: Self.maxWaitSeconds)
            .flatMap { first in
                switch first {
                case .forwarded(let forwarded): req.eventLoop.makeSucceededFuture(forwarded)
                case .stored(let job):
                    req.eventLoop.makeFutureWithTask {
                        stream
                            ? OpenAIEventStream(req: req, jobID: jobID, prefix: prefix, maxWaitSeconds: Self.maxWaitSeconds).response()
                            : try await finished(req, job: job)
                    }
                }
            }.map { response in
                response.headers.replaceOrAdd(name: "x-atelier-job-id", value: jobID.uuidString.lowercased())
                FastPathTrace.mark("answering", job: jobID, logger: req.logger)
                return response
            }
    }

    private func finished(_ req: Request, job: JobRecord?) async throws -> Response {
        guard let job else { throw APIError.notFound("job") }
        let jobID = try job.requireID()
        switch try job.jobStatus {
        case .succeeded:
            let images = try await Self.outputs(of: job, on: req)
            let store = ImageStore(database: req.db, blobs: req.atelier.blobs, clock: req.atelier.clock)
            let result = job.result
            return try OpenAIErrorAnswer.json(
                OpenAIWire.ImagesResponse(
                    created: Int(job.createdAt),
                    data: try await images.asyncMap { .init(b64_json: try await store.data(of: $0).base64EncodedString()) },
                    background: result?.background, output_format: result?.outputFormat, quality: result?.quality,
                    size: result?.size, usage: job.usage.map(OpenAIWire.Usage.init), svg_usage: job.usage?.svg))
        case .failed, .canceled:
            return try OpenAIErrorAnswer(failed: job).response()
        case .queued, .running:
            throw APIError(
                status: .gatewayTimeout, code: "still_running",
                message:
                    "The job is still running after \(Int(Self.maxWaitSeconds)) s; follow it at GET /v1/jobs/\(jobID.uuidString.lowercased())."
            )
        }
    }

    static func outputs(of job: JobRecord, on req: Request) async throws -> [ImageRecord] {
        try await ImageRecord.query(on: req.db).filter(\.$job.$id == job.requireID())
            .filter(\.$role == ImageRecord.Role.output.rawValue).sort(\.$index).all()
    }
}

/// Renders errors on the OpenAI-compatible routes in OpenAI's error shape, so SDKs raise the right exception.
/// A plain (future) middleware, so no Task per request.
struct OpenAIErrorShape: Middleware {
    func respond(to req: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        FastPathTrace.mark("routed", job: nil, logger: req.logger)
        return next.respond(to: req).flatMapErrorThrowing { error in
            let (status, detail, headers) = APIErrorMiddleware.describe(error, request: req)
            let response = try OpenAIErrorAnswer(status: status, code: detail.code, message: detail.message, field: detail.field)
                .response()
            for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
            return response
        }
    }
}
