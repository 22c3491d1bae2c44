import Fluent
import Foundation
import Vapor

/// `/v1/auth`: sign up (with consent), sign in (throttled per email), sign out, and the current session.
struct AuthController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let auth = routes.grouped("auth")
        auth.post("signup", use: signup)
        auth.post("login", use: login)
        auth.get("session", use: session)
        auth.grouped(RequireCaller()).post("logout", use: logout)
    }

    struct SignupBody: Content {
        var email: String
        var password: String
        var consent: Bool?
    }

    struct LoginBody: Content {
        var email: String
        var password: String
    }

    @Sendable func signup(req: Request) async throws -> Response {
        try RequireCaller.refuseCrossSite(req)
        let body = try req.content.decode(SignupBody.self)
        guard body.consent == true else {
            throw APIError.invalid("consent", "Agree to the storage of your prompts and images to create an account.", code: "consent_required")
        }
        let user = try await UserAccounts(app: req.application).create(email: body.email, password: body.password, consent: true)
        return try await signedIn(user, req: req, status: .created)
    }

    @Sendable func login(req: Request) async throws -> Response {
        try RequireCaller.refuseCrossSite(req)
        let body = try req.content.decode(LoginBody.self)
        let email = (try? UserAccounts.normalized(email: body.email)) ?? body.email.lowercased()
        let decision = try await RateLimiter(database: req.db, clock: req.atelier.clock)
            .hit(["login:\(email)"], limit: req.atelier.config.access.loginAttemptsPerMinute)
        guard decision.allowed else { throw decision.refusal("sign-in attempts for this account") }
        guard let user = try await UserAccounts(app: req.application).authenticate(email: body.email, password: body.password) else {
            throw APIError(status: .unauthorized, code: "invalid_credentials", message: "Wrong email or password.")
        }
        return try await signedIn(user, req: req, status: .ok)
    }

    @Sendable func logout(req: Request) async throws -> Response {
        let response = Response(status: .noContent)
        try await SessionCookies(req: req).end(on: response)
        return response
    }

    @Sendable func session(req: Request) async throws -> SessionDTO {
        let caller = req.caller
        var user: UserRecord?
        if let id = caller?.userID { user = try await UserRecord.find(id, on: req.db) }
        var csrf: String?
        if case .session(let token)? = caller?.credential { csrf = token }
        return SessionDTO(
            authenticated: caller != nil, loginRequired: req.atelier.config.access.loginRequired,
            user: user.map(UserDTO.init), csrfToken: csrf)
    }

    private func signedIn(_ user: UserRecord, req: Request, status: HTTPResponseStatus) async throws -> Response {
        let response = Response(status: status)
        let csrf = try await SessionCookies(req: req).start(for: user, on: response)
        try response.content.encode(
            SessionDTO(authenticated: true, loginRequired: req.atelier.config.access.loginRequired, user: UserDTO(user), csrfToken: csrf),
            using: JSONEncoder.api)
        return response
    }
}
