import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Login off (`ATELIER_AUTH=off`, loopback bind only). A web page on another site must not act as the local user:
/// `LocalModeGuard` refuses a `Host` that is not loopback (DNS rebinding) and any request a proxy forwarded (a
/// proxy on this machine would make every client loopback), and hands pages the local CSRF token, which writes
/// made without a bearer token must echo as `X-CSRF-Token` (as with a session).
enum LocalMode {
    private struct CacheKey: StorageKey { typealias Value = NIOLockedValueBox<String?> }

    /// Installs the token cache (at configure time, before requests arrive).
    static func prepare(_ app: Application) { app.storage[CacheKey.self] = NIOLockedValueBox(nil) }

    /// The token once made or read (every request after the first); nil before.
    static func cachedCSRFToken(_ req: Request) -> String? {
        req.application.storage[CacheKey.self]?.withLockedValue { $0 }
    }

    /// `csrfToken(_:)` as a future: already succeeded, without a Task, when the token is cached.
    static func csrfTokenFuture(_ req: Request) -> EventLoopFuture<String> {
        if let token = cachedCSRFToken(req) { return req.eventLoop.makeSucceededFuture(token) }
        return req.eventLoop.makeFutureWithTask { try await csrfToken(req) }
    }

    /// The installation's local CSRF token, made once and kept in `app_settings` (shared by every process).
    static func csrfToken(_ req: Request) async throws -> String {
        let cache = req.application.storage[CacheKey.self]
        if let token = cache?.withLockedValue({ $0 }) { return token }
        let sql = req.db.sql
        try await sql.raw(
            """
            INSERT INTO app_settings (name, value) VALUES ('local_csrf', \(bind: SecretToken.random())) ON CONFLICT (name) DO NOTHING
            """
        ).run()
        let token =
            try await sql.raw("SELECT value FROM app_settings WHERE name = 'local_csrf'").first()?
            .decode(column: "value", as: String.self) ?? ""
        cache?.withLockedValue { $0 = token }
        return token
    }

    /// `localhost`, `127.0.0.1` or `[::1]`, with an optional port.
    static func isLoopbackHostHeader(_ value: String) -> Bool {
        var host = value.lowercased()
        if host.hasPrefix("[") {
            guard let end = host.firstIndex(of: "]") else { return false }
            let rest = host[host.index(after: end)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isNumber)) else { return false }
            return host[...end] == "[::1]"
        }
        if let colon = host.firstIndex(of: ":") {
            guard host[host.index(after: colon)...].allSatisfy(\.isNumber) else { return false }
            host = String(host[..<colon])
        }
        return host == "localhost" || host == "127.0.0.1"
    }
}

/// Global middleware with login off; see `LocalMode`. A plain (future) middleware: once the token is cached it
/// does no async work, so no Task per request.
struct LocalModeGuard: Middleware {
    func respond(to req: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        if let host = req.headers.first(name: .host), !LocalMode.isLoopbackHostHeader(host) {
            return req.eventLoop.makeFailedFuture(
                APIError(
                    status: .misdirectedRequest, code: "host_refused",
                    message: "With login off Atelier answers only to localhost, 127.0.0.1 or [::1]."))
        }
        if req.headers.contains(name: "Forwarded") || req.headers.contains(name: "X-Forwarded-For") {
            return req.eventLoop.makeFailedFuture(
                APIError(
                    status: .forbidden, code: "proxy_refused",
                    message: "With login off Atelier refuses proxied requests; switch login on (ATELIER_AUTH=on) behind a proxy."))
        }
        return next.respond(to: req).flatMap { response in
            LocalMode.csrfTokenFuture(req).map { token in
                if req.cookies[SessionCookies.csrfCookie]?.string != token {
                    response.cookies[SessionCookies.csrfCookie] = HTTPCookies.Value(
                        string: token, maxAge: 365 * 86_400, path: "/", isSecure: false, isHTTPOnly: false, sameSite: .strict)
                }
                return response
            }
        }
    }
}
