import AtelierCore
import Fluent
import Vapor

/// Server-sent events: `GET /v1/jobs/{id}/events` (one job) and `GET /v1/events` (all of the caller's jobs).
/// Events missed since `Last-Event-ID` are replayed from the database before live ones; a comment heartbeat
/// every 15 s keeps proxies from closing the stream.
struct EventController: RouteCollection {
    static let heartbeatSeconds = 15.0
    /// Events replayed per connection of `GET /v1/events`.
    static let replayPage = 1000

    func boot(routes: any RoutesBuilder) throws {
        routes.get("events", use: all)
        routes.get("jobs", ":jobID", "events", use: job)
    }

    @Sendable func job(req: Request) async throws -> Response {
        let job = try await req.ownedJob()
        let jobID = try job.requireID()
        let after = lastEventID(req).flatMap { $0.jobID == jobID ? $0.seq : nil } ?? 0
        let subscription = await req.atelier.hub.subscribe(.init(owner: job.owner, jobID: jobID))
        let backlog = try await JobEventRecord.query(on: req.db)
            .filter(\.$jobID == jobID).filter(\.$seq > after).sort(\.$seq).all().map(JobEvent.init)
        let current = try await JobRecord.find(jobID, on: req.db)
        if try current?.jobStatus.isFinished ?? true, backlog.isEmpty {
            await req.atelier.hub.unsubscribe(subscription.0)
            return Response(status: .noContent)  // tells EventSource not to reconnect
        }
        return stream(req: req, subscription: subscription, backlog: backlog, endOnTerminal: true)
    }

    @Sendable func all(req: Request) async throws -> Response {
        let subscription = await req.atelier.hub.subscribe(.init(owner: req.owner, jobID: nil))
        var backlog: [JobEvent] = []
        var backlogIsPartial = false
        if let last = lastEventID(req),
            let anchor = try await JobEventRecord.query(on: req.db)
                .filter(\.$jobID == last.jobID).filter(\.$seq == last.seq).filter(\.$owner == req.owner).first()
        {
            let page = try await JobEventRecord.query(on: req.db)
                .filter(\.$owner == req.owner).filter(\.$createdAt >= anchor.createdAt)
                .sort(\.$createdAt).limit(Self.replayPage).all()
            // A full page means more were missed: after sending it the stream ends and the client's reconnect
            // (with the last id it got) fetches the next page, rather than skipping to live events.
            backlogIsPartial = page.count == Self.replayPage
            backlog = page.filter { !($0.jobID == last.jobID && $0.seq <= last.seq) }.map(JobEvent.init)
        }
        return stream(
            req: req, subscription: subscription, backlog: backlog, endOnTerminal: false, endAfterBacklog: backlogIsPartial)
    }

    private func lastEventID(_ req: Request) -> (jobID: UUID, seq: Int)? {
        (req.headers.first(name: "Last-Event-ID") ?? req.query[String.self, at: "last_event_id"]).flatMap(JobEvent.parseEventID)
    }

    private func stream(
        req: Request, subscription: (UUID, AsyncStream<JobEvent>), backlog: [JobEvent], endOnTerminal: Bool,
        endAfterBacklog: Bool = false
    ) -> Response {
        let hub = req.atelier.hub
        let slot = req.openStreamSlot  // held until the stream ends
        let response = Response(status: .ok)
        response.headers.replaceOrAdd(name: .contentType, value: "text/event-stream; charset=utf-8")
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-cache, no-transform")
        response.headers.replaceOrAdd(name: "X-Accel-Buffering", value: "no")
        response.body = .init(asyncStream: { writer in
            defer { withExtendedLifetime(slot) {} }
            let (subscription, live) = subscription
            let heartbeat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(Self.heartbeatSeconds))
                    await hub.deliver(
                        JobEvent(jobID: UUID(), owner: "", seq: -1, type: "heartbeat", payload: "", createdAt: 0), to: subscription)
                }
            }
            defer { heartbeat.cancel() }
            do {
                try await writer.writeBuffer(ByteBuffer(string: "retry: 3000\n\n"))
                var delivered: [UUID: Int] = [:]
                for event in backlog {
                    try await writer.writeBuffer(ByteBuffer(string: Self.frame(event)))
                    delivered[event.jobID] = max(delivered[event.jobID] ?? 0, event.seq)
                    if endOnTerminal && event.isTerminal { throw StreamEnd() }
                }
                if endAfterBacklog { throw StreamEnd() }
                for await event in live {
                    if event.seq == -1 {
                        try await writer.writeBuffer(ByteBuffer(string: ": heartbeat\n\n"))
                        continue
                    }
                    if let seen = delivered[event.jobID], event.seq <= seen { continue }
                    try await writer.writeBuffer(ByteBuffer(string: Self.frame(event)))
                    if endOnTerminal && event.isTerminal { break }
                }
            } catch is StreamEnd {
            } catch {
                // The client went away: the writer must still be closed (Vapor asserts on an unclosed writer).
                await hub.unsubscribe(subscription)
                try? await writer.write(.error(error))
                return
            }
            await hub.unsubscribe(subscription)
            try? await writer.write(.end)
        })
        return response
    }

    private struct StreamEnd: Error {}

    static func frame(_ event: JobEvent) -> String {
        "id: \(event.eventID)\nevent: \(event.type)\ndata: \(event.payload)\n\n"
    }
}
