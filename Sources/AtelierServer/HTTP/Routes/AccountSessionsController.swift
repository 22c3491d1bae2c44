import Fluent
import Vapor

/// `POST /v1/me/password` (current and new password; every other session ends) and `DELETE /v1/me/sessions`
/// ("sign out everywhere": every session of the account ends, this one too). Both need a browser session.
struct AccountSessionsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let me = routes.grouped("me")
        me.post("password", use: changePassword)
        me.delete("sessions", use: signOutEverywhere)
    }

    struct PasswordChange: Content {
        var currentPassword: String
        var newPassword: String

        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password", newPassword = "new_password"
        }
    }

    @Sendable func changePassword(req: Request) async throws -> HTTPStatus {
        let user = try await sessionUser(req)
        let body = try req.content.decode(PasswordChange.self)
        let accounts = UserAccounts(app: req.application)
        guard try await accounts.verify(body.currentPassword, of: user) else {
            throw APIError(
                status: .forbidden, code: "wrong_password", message: "That is not this account's password.", field: "current_password")
        }
        do { try UserAccounts.checkPassword(body.newPassword) } catch let error as APIError {
            throw APIError.invalid("new_password", error.message)
        }
        user.passwordHash = try await accounts.hashPassword(body.newPassword)
        let current = try await SessionCookies(req: req).current()?.requireID()
        let userID = try user.requireID()
        try await req.db.transaction { db in
            try await user.update(on: db)
            var others = SessionRecord.query(on: db).filter(\.$user.$id == userID)
            if let current { others = others.filter(\.$id != current) }
            try await others.delete()
        }
        return .noContent
    }

    @Sendable func signOutEverywhere(req: Request) async throws -> Response {
        let user = try await sessionUser(req)
        try await SessionRecord.query(on: req.db).filter(\.$user.$id == user.requireID()).delete()
        let response = Response(status: .noContent)
        try await SessionCookies(req: req).end(on: response)
        return response
    }

    private func sessionUser(_ req: Request) async throws -> UserRecord {
        let caller = try Reauthentication(req: req).requireSession()
        guard let id = caller.userID, let user = try await UserRecord.find(id, on: req.db) else {
            throw APIError.conflict("Login is switched off (local mode): there is no account to manage.", code: "no_account")
        }
        return user
    }
}
