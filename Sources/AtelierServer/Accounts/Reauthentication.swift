import Fluent
import Vapor

/// Managing keys, exporting and deleting an account need a browser session (not an API key) and the account's
/// password in the JSON body (`{"password": …}`). The local user of a login-free install has neither and passes.
struct Reauthentication {
    struct Body: Content { var password: String? }

    let req: Request

    /// The caller's account after both checks; nil for the local user.
    @discardableResult
    func require() async throws -> UserRecord? {
        let caller = try requireSession()
        if case .local = caller.credential { return nil }
        guard let id = caller.userID, let user = try await UserRecord.find(id, on: req.db) else { throw APIError.notFound("account") }
        let password = (try? req.content.decode(Body.self))?.password ?? ""
        guard !password.isEmpty else { throw APIError.invalid("password", "Confirm with your password.", code: "password_required") }
        guard try await UserAccounts(app: req.application).verify(password, of: user) else {
            throw APIError(status: .forbidden, code: "wrong_password", message: "That is not this account's password.", field: "password")
        }
        return user
    }

    /// The caller unless it used an API key (403 `session_required`).
    @discardableResult
    func requireSession() throws -> Caller {
        let caller = try req.requireCaller()
        if case .apiKey = caller.credential {
            throw APIError(
                status: .forbidden, code: "session_required",
                message: "Managing keys and sessions, exporting and deleting the account need a signed-in browser session, not an API key.")
        }
        return caller
    }
}
