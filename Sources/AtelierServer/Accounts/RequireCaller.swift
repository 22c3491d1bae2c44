import Foundation
import Vapor

/// On authenticated routes: 401 without a caller; for writes made with ambient credentials (a session cookie,
/// or the local user), refuses cross-site requests and — for cookies — demands the session's CSRF token in
/// `X-CSRF-Token`. Requests with an API key carry no ambient credentials and need neither.
struct RequireCaller: AsyncMiddleware {
    var adminOnly = false

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let caller = try req.requireCaller()
        if adminOnly && !caller.isAdmin { throw APIError.notFound("route") }
        if !Self.isSafe(req.method) {
            switch caller.credential {
            case .apiKey: break
            case .local: try Self.refuseCrossSite(req)
            case .session(let token):
                try Self.refuseCrossSite(req)
                guard let sent = req.headers.first(name: SessionCookies.csrfHeader), SecretToken.constantTimeEquals(sent, token) else {
                    throw APIError(
                        status: .forbidden, code: "csrf_failed",
                        message: "Missing or wrong X-CSRF-Token header: send the value of the atelier_csrf cookie with every write.")
                }
            }
        }
        return try await next.respond(to: req)
    }

    static func isSafe(_ method: HTTPMethod) -> Bool { [.GET, .HEAD, .OPTIONS].contains(method) }

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
