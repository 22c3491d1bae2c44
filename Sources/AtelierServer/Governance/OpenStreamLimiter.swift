import Foundation
import Synchronization
import Vapor

/// Bounds what holds a connection open on this instance: SSE streams (`/v1/events`, `/v1/jobs/{id}/events`), long
/// waits (`?wait=N`) and the OpenAI-compatible image routes (which wait for their job). Past the per-user or the
/// total limit: 429 `too_many_streams` with Retry-After, before any work is done. A slot is held while the
/// request's `OpenStreamSlot` is alive: the request and, for streams, the response body's writer keep it.
final class OpenStreamSlots: Sendable {
    struct Limits: Sendable, Equatable {
        var perUser: Int
        var total: Int
    }

    let limits: Limits
    private let open = Mutex<[String: Int]>([:])

    init(limits: Limits) { self.limits = limits }

    /// A slot for `owner`, or nil when a limit is reached.
    func acquire(owner: String) -> OpenStreamSlot? {
        let granted = open.withLock { counts -> Bool in
            let total = counts.values.reduce(0, +)
            guard total < limits.total, counts[owner, default: 0] < limits.perUser else { return false }
            counts[owner, default: 0] += 1
            return true
        }
        return granted ? OpenStreamSlot(owner: owner, slots: self) : nil
    }

    fileprivate func release(owner: String) {
        open.withLock { counts in
            counts[owner, default: 1] -= 1
            if counts[owner] == 0 { counts[owner] = nil }
        }
    }

    var openCount: Int { open.withLock { $0.values.reduce(0, +) } }
}

/// One held slot; given back when the last reference goes.
final class OpenStreamSlot: Sendable {
    let owner: String
    private let slots: OpenStreamSlots

    fileprivate init(owner: String, slots: OpenStreamSlots) {
        self.owner = owner
        self.slots = slots
    }

    deinit { slots.release(owner: owner) }
}

/// Takes a slot for requests that hold their connection open (see `OpenStreamSlots`). A plain (future)
/// middleware: taking a slot is synchronous, so no Task per request.
struct OpenStreamLimiter: Middleware {
    func respond(to req: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard Self.holdsOpen(req) else { return next.respond(to: req) }
        guard let slot = req.application.openStreams.acquire(owner: req.owner) else {
            var error = APIError(
                status: .tooManyRequests, code: "too_many_streams",
                message: "Too many open event streams or waits (at most \(req.application.openStreams.limits.perUser) per user); "
                    + "close one or poll GET /v1/jobs/{id} instead.")
            error.headers.replaceOrAdd(name: .retryAfter, value: "5")
            return req.eventLoop.makeFailedFuture(error)
        }
        req.openStreamSlot = slot
        return next.respond(to: req)
    }

    static func holdsOpen(_ req: Request) -> Bool {
        let path = req.url.path
        if req.method == .GET && (path == "/v1/events" || (path.hasPrefix("/v1/jobs/") && path.hasSuffix("/events"))) { return true }
        if req.method == .POST && (path == "/v1/images/generations" || path == "/v1/images/edits") { return true }
        return (req.waitQuery ?? 0) > 0
    }
}

extension Request {
    private struct SlotKey: StorageKey { typealias Value = OpenStreamSlot }

    /// The slot this request holds; a streamed response body captures it so it lasts as long as the stream.
    var openStreamSlot: OpenStreamSlot? {
        get { storage[SlotKey.self] }
        set { storage[SlotKey.self] = newValue }
    }
}

extension Application {
    private struct SlotsKey: StorageKey { typealias Value = OpenStreamSlots }

    var openStreams: OpenStreamSlots {
        get {
            if let slots = storage[SlotsKey.self] { return slots }
            let access = atelier.config.access
            let slots = OpenStreamSlots(limits: .init(perUser: access.openStreamsPerUser, total: access.openStreamsTotal))
            storage[SlotsKey.self] = slots
            return slots
        }
        set { storage[SlotsKey.self] = newValue }
    }
}
