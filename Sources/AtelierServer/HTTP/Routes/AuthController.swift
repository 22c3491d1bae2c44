import Fluent
import Foundation
import Vapor

/// `/v1/auth`: sign up (with consent, under the `SIGNUP` policy), sign in (throttled per email and per client
/// address with back-off), sign out, and the current session.
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
        var invite: String?
        var setupToken: String?

        enum CodingKeys: String, CodingKey {
            case email, password, consent, invite
            case setupToken = "setup_token"
        }
    }

    struct LoginBody: Content {
        var email: String
        var password: String
    }

    /// 202 and the same body whether or not the email had an account; the client signs in next.
    @Sendable func signup(req: Request) async throws -> Response {
        try RequireCaller.refuseCrossSite(req)
        let body = try req.content.decode(SignupBody.self)
        guard body.consent == true else {
            throw APIError.invalid(
                "consent", "Agree to the storage of your prompts and images to create an account.", code: "consent_required")
        }
        let form = SignUp.Form(email: body.email, password: body.password, invite: body.invite, setupToken: body.setupToken)
        let user = try await SignUp(accounts: UserAccounts(app: req.application), policy: req.atelier.config.access.signup).perform(form)
        if let user {
            req.logger.notice("sign-up", metadata: ["user": "\(user.ownerKey)", "status": "\(user.status)", "role": "\(user.role)"])
        }
        let response = Response(status: .accepted)
        try response.content.encode(
            ["status": "received", "message": "Sign in with this email and password. A new account may wait for an admin's approval."],
            using: JSONEncoder.api)
        return response
    }

    @Sendable func login(req: Request) async throws -> Response {
        try RequireCaller.refuseCrossSite(req)
        let body = try req.content.decode(LoginBody.self)
        let email = (try? UserAccounts.normalized(email: body.email)) ?? String(body.email.lowercased().prefix(254))
        let address = req.remoteAddress?.ipAddress ?? "unknown"
        let decision = try await RateLimiter(database: req.db, clock: req.atelier.clock)
            .hit([.loginAddress(address)], limit: req.atelier.config.access.loginAttemptsPerMinute)
        guard decision.allowed else { throw decision.refusal("sign-in attempts from this address") }
        let throttle = LoginThrottle(database: req.db, clock: req.atelier.clock)
        try await throttle.check(email: email, address: address)
        guard let user = try await UserAccounts(app: req.application).authenticate(email: body.email, password: body.password) else {
            try await throttle.failed(email: email, address: address)
            throw APIError(status: .unauthorized, code: "invalid_credentials", message: "Wrong email or password.")
        }
        try await throttle.succeeded(email: email, address: address)
        if user.accountStatus == .suspended { throw APIError.suspended }
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
        switch caller?.credential {
        case .session(let token)?: csrf = token
        case .local?: csrf = try await LocalMode.csrfToken(req)
        default: break
        }
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
