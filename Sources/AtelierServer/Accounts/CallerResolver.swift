import Foundation
import NIOCore
import Vapor

/// Global middleware for `/v1` and `/mcp`: works out the caller (API key, session cookie, or the local user when login is
/// off), counts the request against the caller's requests-per-minute (per user and per key; per client address
/// when anonymous; on SQLite decided in memory and stored before the answer, see `RequestHitCounts`; on PostgreSQL counted
/// in batches, see `RateHitBatcher`) and puts `X-RateLimit-Limit/Remaining/Reset` on every `/v1` response, 429 past the limit.
struct CallerResolver: Middleware {
    /// The caller and its request's hit, decided before the handler; `ticket`: on SQLite, the hit to see stored
    /// before the answer (`RequestHitCounts`).
    private struct Counted: Sendable {
        var failure: (any Error)?
        var decision: RateLimiter.Decision
        var ticket: UInt64?
    }

    /// A plain `Middleware`: a request with no key or session to look up (login off, or anonymous) whose hit is
    /// decided in memory (SQLite) runs without a Task; a lookup or a hit that waits for the database runs in one
    /// (docs/ARCHITECTURE.md, "The middleware chain").
    func respond(to req: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard req.url.path.hasPrefix("/v1/") || req.url.path == "/mcp" else { return next.respond(to: req) }
        let counted: EventLoopFuture<Counted>
        if case .known(let caller) = Self.resolveWithoutLookup(req), let decided = Self.decideNow(req, caller: caller) {
            req.caller = caller
            counted = req.eventLoop.makeSucceededFuture(Counted(decision: decided.decision, ticket: decided.ticket))
        } else {
            counted = req.eventLoop.makeFutureWithTask { try await Self.resolveAndCount(req) }
        }
        return counted.flatMap { counted in
            let answer: EventLoopFuture<Response>
            if let failure = counted.failure {
                answer = req.eventLoop.makeSucceededFuture(APIErrorMiddleware.response(for: failure, request: req))
            } else if !counted.decision.allowed {
                let refusal = counted.decision.refusal("requests")
                answer = req.eventLoop.makeSucceededFuture(APIErrorMiddleware.response(for: refusal, request: req))
            } else {
                answer = next.respond(to: req).flatMapErrorThrowing { APIErrorMiddleware.response(for: $0, request: req) }
            }
            return answer.flatMap { response in
                response.headers.replaceOrAdd(name: "X-RateLimit-Limit", value: String(counted.decision.limit))
                response.headers.replaceOrAdd(name: "X-RateLimit-Remaining", value: String(counted.decision.remaining))
                response.headers.replaceOrAdd(name: "X-RateLimit-Reset", value: String(counted.decision.resetSeconds))
                let counts = req.atelier.requestCounts
                guard let ticket = counted.ticket, !counts.isStored(ticket) else { return req.eventLoop.makeSucceededFuture(response) }
                return req.eventLoop.makeFutureWithTask {
                    try await counts.persisted(ticket, on: req.db)
                    return response
                }
            }
        }
    }

    /// The requests-per-minute hit of `caller`'s request.
    private static func hit(_ req: Request, caller: Caller?) -> RateLimiter.Hit {
        let access = req.atelier.config.access
        let subjects =
            caller.map { RateLimitSubject.caller(.requests, owner: $0.owner, key: $0.keyID) }
            ?? [.address(req.remoteAddress?.ipAddress ?? "unknown")]
        return RateLimiter.Hit(subjects: subjects, limit: caller?.limits.requestsPerMinute ?? access.requestsPerMinute)
    }

    /// On SQLite, the hit decided in memory at once; nil when that needs the database (PostgreSQL, or the window's
    /// stored counts not read yet).
    private static func decideNow(_ req: Request, caller: Caller?) -> (decision: RateLimiter.Decision, ticket: UInt64)? {
        guard req.db.writeExecutor != nil else { return nil }
        return req.atelier.requestCounts.decideNow(hit(req, caller: caller), clock: req.atelier.clock)
    }

    private static func resolveAndCount(_ req: Request) async throws -> Counted {
        var failure: (any Error)?
        do { req.caller = try await resolve(req) } catch { failure = error }
        let hit = hit(req, caller: req.caller)
        if req.db.writeExecutor != nil {  // SQLite: decided in memory, stored with the handler's writes or after it
            let (decision, ticket) = try await req.atelier.requestCounts.hit(hit, on: req.db, clock: req.atelier.clock)
            return Counted(failure: failure, decision: decision, ticket: ticket)
        }
        return Counted(failure: failure, decision: try await req.atelier.requestHits.hit(hit, on: req.db, clock: req.atelier.clock))
    }

    enum Resolution {
        case known(Caller?)
        case needsLookup
    }

    /// The caller when no key or session has to be read: the local user (login off, loopback, no Atelier key, no
    /// session cookie) or nobody (no key, no session cookie).
    static func resolveWithoutLookup(_ req: Request) -> Resolution {
        let access = req.atelier.config.access
        let localMode = !access.loginRequired && isLoopback(req.remoteAddress)
        if let bearer = req.headers.bearerAuthorization?.token, !localMode || bearer.hasPrefix(APIKeyIssuer.prefix) {
            return .needsLookup
        }
        if SessionCookies.hasCandidate(req) { return .needsLookup }
        return .known(localMode ? .local(access) : nil)
    }

    private static func resolve(_ req: Request) async throws -> Caller? {
        let access = req.atelier.config.access
        // With login off (loopback only), a bearer token that is not an Atelier key is what an OpenAI SDK sends
        // with any placeholder key: such a caller is the local user, as without a token.
        let localMode = !access.loginRequired && Self.isLoopback(req.remoteAddress)
        if let bearer = req.headers.bearerAuthorization?.token, !localMode || bearer.hasPrefix(APIKeyIssuer.prefix) {
            guard let key = try await APIKeyIssuer(database: req.db, clock: req.atelier.clock).find(secret: bearer) else {
                throw APIError(status: .unauthorized, code: "invalid_api_key", message: "This API key is unknown or was revoked.")
            }
            if key.user.accountStatus == .suspended { throw APIError.suspended }
            return .user(key.user, credential: .apiKey(key.keyID), scopes: key.scopes, access: access)
        }
        if let session = try await SessionCookies(req: req).current() {
            if session.user.accountStatus == .suspended { throw APIError.suspended }
            return .user(session.user, credential: .session(csrfToken: session.csrfToken), access: access)
        }
        if localMode { return .local(access) }
        return nil
    }

    /// Loopback peers only (or in-process test requests, which have no address).
    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return address == nil }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    /// Whether a host name given to `serve --hostname` is a loopback interface.
    static func isLoopbackHost(_ host: String) -> Bool {
        ["localhost", "::1", "[::1]"].contains(host.lowercased()) || host.hasPrefix("127.")
    }
}
