import AtelierCore
import Fluent
import SQLKit
import Vapor

/// `/v1/jobs`: list with search and filters, show, cancel, retry, favourite, delete.
struct JobController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let jobs = routes.grouped("jobs")
        jobs.get(use: index)
        jobs.group(":jobID") { job in
            job.get(use: show)
            job.delete(use: delete)
            job.post("cancel", use: cancel)
            job.post("retry", use: retry)
            job.put("favorite", use: favorite)
        }
    }

    @Sendable func index(req: Request) async throws -> Response {
        let filter = try JobListFilter(req: req)
        var query = JobRecord.query(on: req.db)
        if !req.wantsAllOwners { query = query.filter(\.$owner == req.owner) }
        query = try filter.apply(to: query, dialect: (req.db as? any SQLDatabase)?.dialect.name ?? "")
        let jobs = try await query.sort(\.$createdAt, .descending).sort(\.$id, .descending)
            .limit(filter.limit + 1).all()
        let page = Array(jobs.prefix(filter.limit))
        let next = jobs.count > filter.limit ? page.last.map(JobListFilter.cursor(for:)) : nil
        let body = JobListDTO(data: try await JobPresenter(req: req).dtos(page), nextCursor: next)
        let response = Response(status: .ok)
        try response.content.encode(body, using: JSONEncoder.api)
        return response
    }

    /// With `?wait=N` (seconds, ≤ 60) answers as soon as the job ends, or as it stands after N seconds.
    @Sendable func show(req: Request) async throws -> Response {
        var job = try await req.ownedJob()
        if let wait = req.waitQuery, wait > 0, try !job.jobStatus.isFinished {
            job = try await JobResponder(req: req).waitForEnd(try job.requireID(), seconds: min(wait, JobResponder.maxWaitSeconds)) ?? job
        }
        return try await JobPresenter(req: req).dto(job).encodeResponse(status: .ok, for: req)
    }

    @Sendable func cancel(req: Request) async throws -> Response {
        let job = try await req.ownedJob()
        let jobID = try job.requireID()
        guard try !job.jobStatus.isFinished else {
            throw APIError.conflict(
                "The job already ended as \(job.status); only queued or running jobs can be canceled.", code: "job_finished")
        }
        // A queued job ends here (status, released reservation, event and webhook deliveries commit together); a
        // running one is marked, and its worker is asked to stop.
        let lifecycle = req.application.lifecycle()
        guard let canceled = try await lifecycle.cancel(jobID) else {
            throw APIError.conflict("The job has already ended; only queued or running jobs can be canceled.", code: "job_finished")
        }
        await lifecycle.deliver(canceled)
        if try canceled.job.map(JobStatus.init(row:)) == .running { req.application.jobWorker?.cancel(jobID) }
        return try await show(req: req)
    }

    @Sendable func retry(req: Request) async throws -> Response {
        let job = try await req.ownedJob()
        let jobID = try job.requireID()
        guard try [.failed, .canceled].contains(job.jobStatus) else {
            throw APIError.conflict("Only failed or canceled jobs can be retried; this one is \(job.status).", code: "job_not_retryable")
        }
        if let shutDown = req.atelier.registry.retirement(of: job.model) { throw shutDown.apiError }
        let admission = JobAdmission(req: req)
        let budget = try await admission.admit(job.params, settings: try await admission.checkKillSwitch())
        let lifecycle = req.application.lifecycle()
        guard
            let requeued = try await lifecycle.retry(
                jobID, owner: job.owner, estimatedCostNano: job.estimatedCostNano, budget: budget)
        else { throw APIError.conflict("The job is no longer failed or canceled.", code: "job_not_retryable") }
        await lifecycle.deliver(requeued)
        await req.atelier.hub.wakeWorkers()
        try? await req.atelier.relay?.announceWork()
        return try await show(req: req)
    }

    @Sendable func favorite(req: Request) async throws -> Response {
        struct Body: Content { var favorite: Bool }
        let body = try req.content.decode(Body.self)
        let job = try await req.ownedJob()
        job.favorite = body.favorite
        try await job.update(on: req.db)
        return try await show(req: req)
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let job = try await req.ownedJob()
        guard try job.jobStatus.isFinished else {
            throw APIError.conflict("The job is still \(job.status); cancel it before deleting.", code: "job_not_finished")
        }
        try await JobDeleter(app: req.application).delete(job)
        return .noContent
    }
}

extension Request {
    /// The job named by `:jobID` if the caller owns it (admins: any job); anything else answers 404.
    func ownedJob() async throws -> JobRecord {
        guard let id = parameters.get("jobID", as: UUID.self),
            let job = try await JobRecord.find(id, on: db), job.owner == owner || caller?.isAdmin == true
        else { throw APIError.notFound("job") }
        return job
    }
}
