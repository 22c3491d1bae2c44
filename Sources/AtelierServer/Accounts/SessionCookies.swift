import Fluent
import Foundation
import Vapor

/// Browser sessions: `atelier_session` (HttpOnly, SameSite=Lax, Secure over TLS) holds a random token whose
/// SHA-256 is stored; `atelier_csrf` (readable by the page, SameSite=Strict) holds the session's CSRF token,
/// which every cookie-authenticated write must send back as `X-CSRF-Token`.
struct SessionCookies {
    static let sessionCookie = "atelier_session"
    static let csrfCookie = "atelier_csrf"
    static let csrfHeader = "X-CSRF-Token"

    let req: Request

    /// Starts a session for `user` and sets both cookies on `response`; returns the CSRF token.
    @discardableResult
    func start(for user: UserRecord, on response: Response) async throws -> String {
        let token = SecretToken.random()
        let csrf = SecretToken.random()
        let now = req.atelier.clock.now()
        let lifetime = Double(req.atelier.config.access.sessionDays) * 86_400
        let session = SessionRecord(
            userID: try user.requireID(), tokenHash: SecretToken.sha256(token), csrfToken: csrf, now: now,
            expiresAt: now + lifetime)
        try await session.create(on: req.db)
        response.cookies[Self.sessionCookie] = cookie(token, maxAge: Int(lifetime), httpOnly: true, sameSite: .lax)
        response.cookies[Self.csrfCookie] = cookie(csrf, maxAge: Int(lifetime), httpOnly: false, sameSite: .strict)
        return csrf
    }

    /// The live session named by the request's cookie, with its user.
    func current() async throws -> SessionRecord? {
        guard Self.hasCandidate(req), let token = req.cookies[Self.sessionCookie]?.string else { return nil }
        return try await SessionRecord.query(on: req.db)
            .filter(\.$tokenHash == SecretToken.sha256(token))
            .filter(\.$expiresAt > req.atelier.clock.now())
            .with(\.$user).first()
    }

    /// Whether `req` carries a session cookie worth looking up (`current` reads nothing otherwise).
    static func hasCandidate(_ req: Request) -> Bool {
        guard let token = req.cookies[sessionCookie]?.string else { return false }
        return !token.isEmpty && token.count < 200
    }

    /// Ends the current session and expires both cookies.
    func end(on response: Response) async throws {
        if let token = req.cookies[Self.sessionCookie]?.string {
            try await SessionRecord.query(on: req.db).filter(\.$tokenHash == SecretToken.sha256(token)).delete()
        }
        response.cookies[Self.sessionCookie] = cookie("", maxAge: 0, httpOnly: true, sameSite: .lax)
        response.cookies[Self.csrfCookie] = cookie("", maxAge: 0, httpOnly: false, sameSite: .strict)
    }

    private var isSecure: Bool {
        if let forced = req.atelier.config.access.secureCookies { return forced }
        return req.application.http.server.configuration.tlsConfiguration != nil
            || req.headers.first(name: "X-Forwarded-Proto")?.lowercased() == "https"
    }

    private func cookie(_ value: String, maxAge: Int, httpOnly: Bool, sameSite: HTTPCookies.SameSitePolicy) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: value, maxAge: maxAge, path: "/", isSecure: isSecure, isHTTPOnly: httpOnly, sameSite: sameSite)
    }
}
