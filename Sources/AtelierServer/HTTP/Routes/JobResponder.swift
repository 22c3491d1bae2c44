import AtelierCore
import Fluent
import Vapor

/// Answers a create request: 202 with the job, or — with `?wait=N` — the finished job if it ends within N seconds.
struct JobResponder {
    static let maxWaitSeconds = 60.0
    let req: Request

    func respond(job: JobRecord, created: Bool) async throws -> Response {
        let jobID = try job.requireID()
        var current = job
        if let wait = req.query[Double.self, at: "wait"], wait > 0 {
            current = try await waitForEnd(jobID, seconds: min(wait, Self.maxWaitSeconds)) ?? job
        }
        let status: HTTPResponseStatus = try current.jobStatus.isFinished && req.query[Double.self, at: "wait"] != nil ? .ok : .accepted
        let response = try await JobPresenter(req: req).dto(current).encodeResponse(status: status, for: req)
        response.headers.replaceOrAdd(name: .location, value: "/v1/jobs/\(jobID.uuidString.lowercased())")
        if !created { response.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true") }
        return response
    }

    /// The job once it has ended, or as it stands after `seconds`.
    func waitForEnd(_ jobID: UUID, seconds: Double) async throws -> JobRecord? {
        let hub = req.atelier.hub
        let (subscription, events) = await hub.subscribe(.init(owner: nil, jobID: jobID))
        defer { Task { await hub.unsubscribe(subscription) } }
        if let job = try await JobRecord.find(jobID, on: req.db), try job.jobStatus.isFinished { return job }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(seconds))
            await hub.unsubscribe(subscription)
        }
        defer { timeout.cancel() }
        for await event in events where event.isTerminal { break }
        return try await JobRecord.find(jobID, on: req.db)
    }
}

/// Loads what a job's JSON needs.
struct JobPresenter {
    let req: Request

    func dto(_ job: JobRecord) async throws -> JobDTO {
        let images = try await job.$images.get(reload: true, on: req.db)
        return JobDTO(job, images: images, offline: req.atelier.config.isOffline, now: req.atelier.clock.now())
    }

    func dtos(_ jobs: [JobRecord]) async throws -> [JobDTO] {
        let ids = jobs.compactMap(\.id)
        let images = ids.isEmpty ? [] : try await ImageRecord.query(on: req.db).filter(\.$job.$id ~~ ids).all()
        let byJob = Dictionary(grouping: images, by: { $0.$job.id })
        return jobs.map { JobDTO($0, images: byJob[$0.id ?? UUID()] ?? [], offline: req.atelier.config.isOffline, now: req.atelier.clock.now()) }
    }
}

extension JobDTO {
    func encodeResponse(status: HTTPResponseStatus, for req: Request) async throws -> Response {
        let response = Response(status: status)
        try response.content.encode(self, using: JSONEncoder.api)
        return response
    }
}
