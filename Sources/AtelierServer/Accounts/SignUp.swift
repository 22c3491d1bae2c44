import Fluent
import Foundation
import Vapor

/// Web sign-up under the `SIGNUP` policy. A setup token (first admin) or an invitation skips the policy;
/// otherwise `closed` refuses, `approval` makes a `pending` account and `open` an active one. When the email is
/// taken it does the same work and creates nothing, so the answer cannot tell which emails have accounts.
struct SignUp: Sendable {
    struct Form: Sendable {
        var email: String
        var password: String
        var invite: String?
        var setupToken: String?
    }

    let accounts: UserAccounts
    let policy: AtelierConfig.Access.Signup

    /// The new account, or nil when the email already had one.
    func perform(_ form: Form) async throws -> UserRecord? {
        let email = try UserAccounts.normalized(email: form.email)
        try UserAccounts.checkPassword(form.password)
        let invite = form.invite.flatMap { $0.isEmpty ? nil : $0 }
        let setup = form.setupToken.flatMap { $0.isEmpty ? nil : $0 }
        if invite == nil && setup == nil && policy == .closed {
            throw APIError(
                status: .forbidden, code: "signup_closed", message: "Sign-up is by invitation only: ask an admin for an invite link.")
        }
        let hash = try await accounts.hashPassword(form.password)
        if try await accounts.find(email: email) != nil { return nil }
        let now = accounts.clock.now()
        let user = UserRecord(
            email: email, passwordHash: hash, role: .member, status: policy == .open ? .active : .pending,
            consentAt: now, now: now)
        let userID = try user.requireID()
        do {
            try await accounts.database.transaction { db in
                if let setup {
                    guard try await SetupToken.consume(setup, on: db) else {
                        throw APIError.invalid(
                            "setup_token",
                            "This setup link was already used or is out of date; see the server's log or run `atelier users create EMAIL --admin`.",
                            code: "invalid_setup_token")
                    }
                    user.role = UserRecord.Role.admin.rawValue
                    user.status = UserRecord.Status.active.rawValue
                } else if let invite {
                    guard try await Invites.consume(invite, by: userID, now: now, on: db) else {
                        throw APIError.invalid(
                            "invite", "This invitation was already used or has expired; ask an admin for a new one.", code: "invalid_invite"
                        )
                    }
                    user.status = UserRecord.Status.active.rawValue
                }
                try await user.create(on: db)
            }
        } catch let error as APIError {
            throw error
        } catch {
            // A simultaneous sign-up with the same email won the unique index.
            if try await accounts.find(email: email) != nil { return nil }
            throw error
        }
        return user
    }
}
