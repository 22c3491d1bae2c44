import AtelierCore
import Fluent
import Vapor

/// Answers a create request: 202 with the job, or — with `?wait=N` — the finished job if it ends within N seconds.
struct JobResponder {
    static let maxWaitSeconds = 60.0
    let req: Request

    /// Answers for a job `JobCreation` made or replayed: a new job's 202 is the `job` member of the event its
    /// creation stored (encoded once, no read of its images), a replayed one is read.
    func respond(_ new: JobCreation.Created) async throws -> Response {
        try await respond(job: new.job, created: new.created, images: new.images, eventPayload: new.eventPayload)
    }

    /// `images`: the job's image rows when the caller has them as committed; `eventPayload`: the last event stored
    /// with the job as it is (its `job` member is then the answer).
    func respond(
        job: JobRecord, created: Bool, images: [ImageRecord]? = nil, eventPayload: String? = nil
    ) async throws -> Response {
        let jobID = try job.requireID()
        var current = job
        var known = images
        var response: Response?
        let waitQuery = req.waitQuery
        if let wait = waitQuery, wait > 0 {
            switch try await waitForEndEvent(jobID, seconds: min(wait, Self.maxWaitSeconds)) {
            case .event(let event):
                // The terminal event carries the job as the API shows it: no second read.
                if let json = EventJobJSON.job(in: event.payload) {
                    response = Response(status: .ok, body: .init(buffer: ByteBuffer(bytes: json)))
                    response?.headers.contentType = .json
                } else {
                    current = try await JobRecord.find(jobID, on: req.db) ?? job
                    known = nil
                }
            case .read(let read):
                current = read ?? job
                known = nil
            }
        } else if let eventPayload, let json = EventJobJSON.job(in: eventPayload) {
            response = Response(status: .accepted, body: .init(buffer: ByteBuffer(bytes: json)))
            response?.headers.contentType = .json
        }
        let status: HTTPResponseStatus = try current.jobStatus.isFinished && waitQuery != nil ? .ok : .accepted
        let answer: Response
        if let response {
            answer = response
        } else {
            answer = try await JobPresenter(req: req).dto(current, images: known).encodeResponse(status: status, for: req)
        }
        answer.headers.replaceOrAdd(name: .location, value: "/v1/jobs/\(jobID.uuidString.lowercased())")
        if !created { answer.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true") }
        return answer
    }

    /// The job once it has ended, or as it stands after `seconds`.
    func waitForEnd(_ jobID: UUID, seconds: Double) async throws -> JobRecord? {
        switch try await waitForEndEvent(jobID, seconds: seconds) {
        case .event: try await JobRecord.find(jobID, on: req.db)
        case .read(let job): job
        }
    }

    enum Ended {
        /// The terminal event, as it was published.
        case event(JobEvent)
        /// The job as read: it had ended before the wait began, or had not ended after `seconds`.
        case read(JobRecord?)
    }

    /// The job's terminal event, or the job as read when it had already ended or the wait ran out.
    func waitForEndEvent(_ jobID: UUID, seconds: Double) async throws -> Ended {
        let hub = req.atelier.hub
        let (subscription, events) = await hub.subscribe(.init(owner: nil, jobID: jobID))
        defer { Task { await hub.unsubscribe(subscription) } }
        if let job = try await JobRecord.find(jobID, on: req.db), try job.jobStatus.isFinished { return .read(job) }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(seconds))
            await hub.unsubscribe(subscription)
        }
        defer { timeout.cancel() }
        for await event in events where event.isTerminal { return .event(event) }
        return .read(try await JobRecord.find(jobID, on: req.db))
    }
}

/// Loads what a job's JSON needs.
struct JobPresenter {
    let req: Request

    /// `known`: the job's image rows when the caller has them as they are now (read otherwise).
    func dto(_ job: JobRecord, images known: [ImageRecord]? = nil) async throws -> JobDTO {
        let images = if let known { known } else { try await job.$images.get(reload: true, on: req.db) }
        return JobDTO(job, images: images, offline: req.atelier.config.isOffline, now: req.atelier.clock.now())
    }

    func dtos(_ jobs: [JobRecord]) async throws -> [JobDTO] {
        let ids = jobs.compactMap(\.id)
        let images = ids.isEmpty ? [] : try await ImageRecord.query(on: req.db).filter(\.$job.$id ~~ ids).all()
        let byJob = Dictionary(grouping: images, by: { $0.$job.id })
        return jobs.map {
            JobDTO($0, images: byJob[$0.id ?? UUID()] ?? [], offline: req.atelier.config.isOffline, now: req.atelier.clock.now())
        }
    }
}

extension JobDTO {
    func encodeResponse(status: HTTPResponseStatus, for req: Request) async throws -> Response {
        let response = Response(status: status)
        try response.content.encode(self, using: JSONEncoder.api)
        return response
    }
}
