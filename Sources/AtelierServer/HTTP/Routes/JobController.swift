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
        if let wait = req.query[Double.self, at: "wait"], wait > 0, !job.jobStatus.isFinished {
            job = try await JobResponder(req: req).waitForEnd(try job.requireID(), seconds: min(wait, JobResponder.maxWaitSeconds)) ?? job
        }
        return try await JobPresenter(req: req).dto(job).encodeResponse(status: .ok, for: req)
    }

    @Sendable func cancel(req: Request) async throws -> Response {
        let job = try await req.ownedJob()
        let jobID = try job.requireID()
        guard !job.jobStatus.isFinished else {
            throw APIError.conflict("The job already ended as \(job.status); only queued or running jobs can be canceled.", code: "job_finished")
        }
        let publisher = req.application.publisher()
        // A queued job ends here: its status, the released reservation, its event and its webhook deliveries commit together.
        let canceledQueued = try await req.db.transaction { db -> JobEventPublisher.RecordedEvent? in
            let rows = try await (db as! any SQLDatabase).raw("""
                UPDATE jobs SET status = 'canceled', cancel_requested = \(bind: true), finished_at = \(bind: req.atelier.clock.now()),
                    error_code = 'canceled', error_message = 'Canceled by the user.', error_retryable = \(bind: false)
                WHERE id = \(bind: jobID) AND status = 'queued' RETURNING id
                """).all()
            guard rows.count == 1 else { return nil }
            try await SpendLedger(database: db).release(jobID: jobID, now: req.atelier.clock.now())
            return try await publisher.record("job.canceled", jobID: jobID, on: db)
        }
        if let canceledQueued {
            await publisher.deliver(canceledQueued)
        } else {
            let sql = req.db as! any SQLDatabase
            try await sql.raw("UPDATE jobs SET cancel_requested = \(bind: true) WHERE id = \(bind: jobID) AND status = 'running'").run()
            req.application.jobWorker?.cancel(jobID)
        }
        return try await show(req: req)
    }

    @Sendable func retry(req: Request) async throws -> Response {
        let job = try await req.ownedJob()
        let jobID = try job.requireID()
        guard job.jobStatus == .failed || job.jobStatus == .canceled else {
            throw APIError.conflict("Only failed or canceled jobs can be retried; this one is \(job.status).", code: "job_not_retryable")
        }
        if let shutDown = req.atelier.registry.retirement(of: job.model) { throw shutDown.apiError }
        let admission = JobAdmission(req: req)
        let budget = try await admission.admit(job.params, settings: try await admission.checkKillSwitch())
        let requeued = try await req.db.transaction { db in
            let rows = try await (db as! any SQLDatabase).raw("""
            UPDATE jobs SET status = 'queued', attempts = 0, cancel_requested = \(bind: false), run_after = \(bind: req.atelier.clock.now()),
                finished_at = NULL, error_code = NULL, error_message = NULL, error_retryable = NULL
            WHERE id = \(bind: jobID) AND status IN ('failed', 'canceled') RETURNING id
            """).all()
            if rows.isEmpty { throw APIError.conflict("The job is no longer failed or canceled.", code: "job_not_retryable") }
            try await SpendLedger(database: db).reserve(
                jobID: jobID, owner: job.owner, amount: job.estimatedCostNano, budget: budget, now: req.atelier.clock.now())
            return rows.count
        }
        if requeued == 1 {
            try await req.application.publisher().publish("job.queued", jobID: jobID)
            await req.atelier.hub.wakeWorkers()
            try? await req.atelier.relay?.announceWork()
        }
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
        guard job.jobStatus.isFinished else {
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
