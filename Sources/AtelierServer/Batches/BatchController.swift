import AtelierCore
import Fluent
import SQLKit
import Vapor

/// `/v1/batches`: create (or only validate) a batch from a template and rows, list, show with progress, its
/// jobs in order, cancel, retry failed rows, delete.
struct BatchController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let batches = routes.grouped("batches")
        let body = HTTPBodyStreamStrategy.collect(maxSize: ByteCount(value: BatchRequest.maxBodyBytes))
        batches.on(.POST, body: body, use: create)
        batches.on(.POST, "validate", body: body, use: validate)
        batches.get(use: index)
        batches.group(":batchID") { batch in
            batch.get(use: show)
            batch.get("jobs", use: jobs)
            batch.post("cancel", use: cancel)
            batch.post("retry", use: retry)
            batch.delete(use: delete)
        }
    }

    @Sendable func create(req: Request) async throws -> Response {
        let (caller, budget) = try await admission(req)
        let plan = try await plan(req, caller: caller, capped: budget.hasCap)
        let check = await BatchCheck.run(plan)
        guard check.valid else { return try check.refusal.response() }
        if plan.mode == .openaiBatch && check.jobs > OpenAIBatchInput.maxLines {
            throw APIError.invalid(
                "mode", "An OpenAI batch holds at most \(OpenAIBatchInput.maxLines) requests; this batch has \(check.jobs) jobs (use live)."
            )
        }
        let batch: BatchRecord
        do {
            batch = try await BatchCreator(app: req.application).create(plan, check: check, owner: req.owner, budget: budget)
        } catch let refusal as BatchRefusal {
            return try refusal.response()
        }
        req.logger.info("batch created", metadata: ["batch": "\(batch.id!)", "jobs": "\(check.jobs)", "mode": "\(batch.mode)"])
        return try await present(batch, req: req, status: .created)
    }

    /// Checks a batch as `create` would and answers the problems and the estimate; creates nothing.
    @Sendable func validate(req: Request) async throws -> BatchCheck {
        let (caller, budget) = try await admission(req)
        return await BatchCheck.run(try await plan(req, caller: caller, capped: budget.hasCap))
    }

    /// The kill switch (refuses while on) and the caps the batch's estimate is held against.
    private func admission(_ req: Request) async throws -> (Caller, SpendBudget) {
        let settings = try await JobAdmission(req: req).checkKillSwitch()
        let caller = try req.requireCaller()
        return (
            caller,
            SpendBudget(
                dailyCapNano: caller.limits.dailyCapNano, monthlyCapNano: caller.limits.monthlyCapNano,
                globalDailyCapNano: settings.globalDailyCapNano)
        )
    }

    private func plan(_ req: Request, caller: Caller, capped: Bool) async throws -> BatchPlan {
        let request = try req.content.decode(BatchRequest.self, using: JSONDecoder())
        if request.mode == BatchMode.openaiBatch.rawValue && req.atelier.config.isOffline {
            throw APIError.invalid("mode", "mode openai_batch needs the OpenAI upstream; this server runs offline (use live).")
        }
        return try BatchPlan(
            request, validator: try await req.atelier.validator(req.db), costs: req.atelier.costs, verified: caller.verified,
            capped: capped)
    }

    /// `?limit` (1…100, default 20) and `?cursor`: newest first.
    @Sendable func index(req: Request) async throws -> Response {
        let limit = min(max(req.query[Int.self, at: "limit"] ?? 20, 1), 100)
        var query = BatchRecord.query(on: req.db)
        if !req.wantsAllOwners { query = query.filter(\.$owner == req.owner) }
        if let text = req.query[String.self, at: "cursor"] {
            guard let cursor = JobListFilter.decodeCursor(text) else {
                throw APIError.invalid("cursor", "The cursor is not one this server returned; start without it.")
            }
            query = query.group(.or) { group in
                group.filter(\.$createdAt < cursor.0)
                group.group(.and) { $0.filter(\.$createdAt == cursor.0).filter(\.$id < cursor.1) }
            }
        }
        let batches = try await query.sort(\.$createdAt, .descending).sort(\.$id, .descending).limit(limit + 1).all()
        let page = Array(batches.prefix(limit))
        let progress = try await BatchProgress.load(page.compactMap(\.id), on: req.db)
        let next =
            batches.count > limit
            ? page.last.map { Data("\($0.createdAt.bitPattern)|\($0.id!.uuidString)".utf8).base64EncodedString() } : nil
        let body = BatchListDTO(data: page.map { BatchDTO($0, progress: progress[$0.id!] ?? BatchProgress()) }, nextCursor: next)
        let response = Response(status: .ok)
        try response.content.encode(body, using: JSONEncoder.api)
        return response
    }

    @Sendable func show(req: Request) async throws -> Response {
        try await present(try await req.ownedBatch(), req: req, status: .ok)
    }

    /// The batch's jobs in batch order; `?limit` (1…500, default 100) and `?cursor` (the `next_cursor` returned).
    @Sendable func jobs(req: Request) async throws -> Response {
        let batch = try await req.ownedBatch()
        let limit = min(max(req.query[Int.self, at: "limit"] ?? 100, 1), 500)
        var query = JobRecord.query(on: req.db).filter(\.$batchID == batch.id!)
        if let text = req.query[String.self, at: "cursor"] {
            guard let after = Int(text) else {
                throw APIError.invalid("cursor", "The cursor is not one this server returned; start without it.")
            }
            query = query.filter(\.$batchIndex > after)
        }
        let jobs = try await query.sort(\.$batchIndex).limit(limit + 1).all()
        let page = Array(jobs.prefix(limit))
        let next = jobs.count > limit ? page.last?.batchIndex.map(String.init) : nil
        let body = JobListDTO(data: try await JobPresenter(req: req).dtos(page), nextCursor: next)
        let response = Response(status: .ok)
        try response.content.encode(body, using: JSONEncoder.api)
        return response
    }

    @Sendable func cancel(req: Request) async throws -> Response {
        let batch = try await req.ownedBatch()
        try await BatchCanceler(app: req.application).cancel(batch)
        return try await present(batch, req: req, status: .ok)
    }

    /// Queues the batch's failed jobs again (each reserved against the caps as a retried job is).
    @Sendable func retry(req: Request) async throws -> Response {
        let batch = try await req.ownedBatch()
        guard try batch.batchMode == .live else {
            throw APIError.conflict("Only live batches retry their failed rows here.", code: "batch_not_retryable")
        }
        let (_, budget) = try await admission(req)
        let retried = try await BatchCanceler(app: req.application).retryFailed(batch, budget: budget)
        req.logger.info("batch retried", metadata: ["batch": "\(batch.id!)", "jobs": "\(retried)"])
        return try await present(batch, req: req, status: .ok)
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let batch = try await req.ownedBatch()
        let progress = try await BatchProgress.load([batch.id!], on: req.db)[batch.id!] ?? BatchProgress()
        guard progress.isSettled else {
            throw APIError.conflict(
                "The batch still has \(progress.counts.queued) queued and \(progress.counts.running) running jobs; cancel it before deleting.",
                code: "batch_not_finished")
        }
        let deleter = JobDeleter(app: req.application)
        while true {
            let jobs = try await JobRecord.query(on: req.db).filter(\.$batchID == batch.id!).limit(200).all()
            if jobs.isEmpty { break }
            for job in jobs { try await deleter.delete(job) }
        }
        try await batch.delete(on: req.db)
        return .noContent
    }

    private func present(_ batch: BatchRecord, req: Request, status: HTTPStatus) async throws -> Response {
        let progress = try await BatchProgress.load([batch.id!], on: req.db)[batch.id!] ?? BatchProgress()
        try await BatchProgress.refresh(batch, with: progress, on: req.db, now: req.atelier.clock.now())
        let response = Response(status: status)
        try response.content.encode(BatchDTO(batch, progress: progress), using: JSONEncoder.api)
        return response
    }
}

extension Request {
    /// The batch named by `:batchID` if the caller owns it (admins: any batch); anything else answers 404.
    func ownedBatch() async throws -> BatchRecord {
        guard let id = parameters.get("batchID", as: UUID.self),
            let batch = try await BatchRecord.find(id, on: db), batch.owner == owner || caller?.isAdmin == true
        else { throw APIError.notFound("batch") }
        return batch
    }
}
