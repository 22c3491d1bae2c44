import Foundation
import Vapor

/// On authenticated routes: 401 without a caller; a pending account reaches only its own account routes; an API
/// key needs the route's scope (`APIKeyScope.required`); writes made with ambient credentials (a session cookie,
/// or the local user without a bearer token) are refused cross-site and must echo the CSRF token in
/// `X-CSRF-Token`. Requests with a bearer token carry no ambient credentials: a browser cannot add one to a
/// cross-site request without a CORS preflight, which Atelier never grants. A plain (future) middleware: every
/// check is synchronous (the local CSRF token is cached after the first request), so no Task per request.
struct RequireCaller: Middleware {
    var adminOnly = false

    /// What a pending account may use: see and delete itself, change its password, sign out.
    static let pendingRoutes: Set<String> = ["/v1/me", "/v1/me/password", "/v1/me/sessions", "/v1/auth/logout"]

    func respond(to req: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        do {
            guard let localToken = try admit(req) else { return next.respond(to: req) }
            return localToken.flatMapThrowing { try Self.requireCSRF(req, expected: $0) }.flatMap { next.respond(to: req) }
        } catch {
            return req.eventLoop.makeFailedFuture(error)
        }
    }

    /// Throws the refusal, if any. Returns the local CSRF token still to check (a local write before the token is
    /// cached), else nil: the request may pass.
    private func admit(_ req: Request) throws -> EventLoopFuture<String>? {
        let caller = try req.requireCaller()
        if adminOnly && !caller.isAdmin { throw APIError.notFound("route") }
        if caller.status == .pending && !Self.pendingRoutes.contains(req.url.path) { throw APIError.pending }
        if let scopes = caller.scopes {
            let needed = APIKeyScope.required(method: req.method, path: req.url.path)
            guard scopes.contains(needed) else {
                throw APIError(
                    status: .forbidden, code: "insufficient_scope",
                    message: "This API key lacks the '\(needed.rawValue)' scope; create a key with it on the account page.")
            }
        }
        if !Self.isSafe(req.method) {
            switch caller.credential {
            case .apiKey: break
            case .local:
                if req.headers.bearerAuthorization == nil {
                    try Self.refuseCrossSite(req)
                    guard let token = LocalMode.cachedCSRFToken(req) else { return LocalMode.csrfTokenFuture(req) }
                    try Self.requireCSRF(req, expected: token)
                }
            case .session(let token):
                try Self.refuseCrossSite(req)
                try Self.requireCSRF(req, expected: token)
            }
        }
        return nil
    }

    static func isSafe(_ method: HTTPMethod) -> Bool { [.GET, .HEAD, .OPTIONS].contains(method) }

    static func requireCSRF(_ req: Request, expected: String) throws {
        guard let sent = req.headers.first(name: SessionCookies.csrfHeader), !expected.isEmpty,
            SecretToken.constantTimeEquals(sent, expected)
        else {
            throw APIError(
                status: .forbidden, code: "csrf_failed",
                message: "Missing or wrong X-CSRF-Token header: send the value of the atelier_csrf cookie with every write.")
        }
    }

    /// 403 when the browser says the request came from another site (Sec-Fetch-Site, or an Origin that is not
    /// this host — `Host` or, behind a proxy, `X-Forwarded-Host`).
    static func refuseCrossSite(_ req: Request) throws {
        let site = req.headers.first(name: "Sec-Fetch-Site")?.lowercased()
        var crossSite = site == "cross-site" || site == "same-site"
        if let origin = req.headers.first(name: .origin) {
            let hosts = [req.headers.first(name: .host), req.headers.first(name: "X-Forwarded-Host")].compactMap { $0?.lowercased() }
            crossSite = crossSite || !hosts.contains(Self.hostAndPort(origin) ?? "\u{0}")
        }
        if crossSite {
            throw APIError(status: .forbidden, code: "cross_site_refused", message: "Writes from another site are refused.")
        }
    }

    /// `host[:port]` of an Origin header; nil for `null` or garbage.
    static func hostAndPort(_ origin: String) -> String? {
        guard let parts = URLComponents(string: origin), let host = parts.host?.lowercased() else { return nil }
        return parts.port.map { "\(host):\($0)" } ?? host
    }
}
