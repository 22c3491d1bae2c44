import Foundation
import NIOCore
import Vapor

/// Global middleware for `/v1` and `/mcp`: works out the caller (API key, session cookie, or the local user when login is
/// off), counts the request against the caller's requests-per-minute (per user and per key; per client address
/// when anonymous; on SQLite decided in memory and stored before the answer, see `RequestHitCounts`; on PostgreSQL counted
/// in batches, see `RateHitBatcher`) and puts `X-RateLimit-Limit/Remaining/Reset` on every `/v1` response, 429 past the limit.
struct CallerResolver: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard req.url.path.hasPrefix("/v1/") || req.url.path == "/mcp" else { return try await next.respond(to: req) }
        var failure: (any Error)?
        do { req.caller = try await resolve(req) } catch { failure = error }
        let access = req.atelier.config.access
        let subjects =
            req.caller.map { RateLimitSubject.caller(.requests, owner: $0.owner, key: $0.keyID) }
            ?? [.address(req.remoteAddress?.ipAddress ?? "unknown")]
        let hit = RateLimiter.Hit(subjects: subjects, limit: req.caller?.limits.requestsPerMinute ?? access.requestsPerMinute)
        let decision: RateLimiter.Decision
        var ticket: UInt64?
        if req.db.writeExecutor != nil {  // SQLite: decided in memory, stored with the handler's writes or after it
            (decision, ticket) = try await req.atelier.requestCounts.hit(hit, on: req.db, clock: req.atelier.clock)
        } else {
            decision = try await req.atelier.requestHits.hit(hit, on: req.db, clock: req.atelier.clock)
        }
        let response: Response
        if let failure {
            response = APIErrorMiddleware.response(for: failure, request: req)
        } else if !decision.allowed {
            response = APIErrorMiddleware.response(for: decision.refusal("requests"), request: req)
        } else {
            do { response = try await next.respond(to: req) } catch {
                response = APIErrorMiddleware.response(for: error, request: req)
            }
        }
        if let ticket { try await req.atelier.requestCounts.persisted(ticket, on: req.db) }
        response.headers.replaceOrAdd(name: "X-RateLimit-Limit", value: String(decision.limit))
        response.headers.replaceOrAdd(name: "X-RateLimit-Remaining", value: String(decision.remaining))
        response.headers.replaceOrAdd(name: "X-RateLimit-Reset", value: String(decision.resetSeconds))
        return response
    }

    private func resolve(_ req: Request) async throws -> Caller? {
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
