import Fluent
import Foundation
import SQLKit
import Vapor

/// Creating accounts and checking passwords. Admins come from the command line, the one-time setup link
/// (`SetupToken`) or another admin; never from the first web visitor.
struct UserAccounts: Sendable {
    let database: any Database
    let threadPool: NIOThreadPool
    let access: AtelierConfig.Access
    let clock: AtelierClock

    init(app: Application) {
        database = app.db
        threadPool = app.passwordHashingPool
        access = app.atelier.config.access
        clock = app.atelier.clock
    }

    static func normalized(email: String) throws -> String {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !email.contains(where: \.isWhitespace)
        else { throw APIError.invalid("email", "Give an email address such as ada@example.com.") }
        return email
    }

    static func checkPassword(_ password: String) throws {
        guard (10...200).contains(password.count) else {
            throw APIError.invalid("password", "The password must be 10 to 200 characters long.")
        }
    }

    /// Creates an account (the command line's path; the web's is `SignUp`). 409 when the email is taken.
    func create(
        email: String, password: String, role: UserRecord.Role = .member, status: UserRecord.Status = .active,
        consent: Bool
    ) async throws -> UserRecord {
        let email = try Self.normalized(email: email)
        try Self.checkPassword(password)
        let user = UserRecord(
            email: email, passwordHash: try await hashPassword(password), role: role, status: status,
            consentAt: consent ? clock.now() : nil, now: clock.now())
        do {
            try await database.transaction { db in
                try await user.create(on: db)
                if role == .admin { try await SetupToken.discard(on: db) }
            }
        } catch {
            if try await find(email: email) != nil { throw Self.emailTaken }
            throw error
        }
        return user
    }

    static let emailTaken = APIError(
        status: .conflict, code: "email_taken", message: "An account with this email exists.", field: "email")

    /// The user when the password matches; nil otherwise (same work either way, so timing tells nothing).
    func authenticate(email: String, password: String) async throws -> UserRecord? {
        let user = try await UserRecord.query(on: database)
            .filter(\.$email == (try? Self.normalized(email: email)) ?? "").first()
        let hash = user?.passwordHash
        let cost = access.bcryptCost
        let matches = try await threadPool.runIfActive {
            guard let hash else {
                _ = try? Bcrypt.hash(password, cost: cost)  // the same work as a real check
                return false
            }
            return (try? Bcrypt.verify(password, created: hash)) ?? false
        }
        return matches ? user : nil
    }

    /// Whether `password` is the account's (on the thread pool).
    func verify(_ password: String, of user: UserRecord) async throws -> Bool {
        let hash = user.passwordHash
        return try await threadPool.runIfActive { (try? Bcrypt.verify(password, created: hash)) ?? false }
    }

    func hashPassword(_ password: String) async throws -> String {
        let cost = access.bcryptCost
        return try await threadPool.runIfActive { try Bcrypt.hash(password, cost: cost) }
    }

    func find(email: String) async throws -> UserRecord? {
        try await UserRecord.query(on: database).filter(\.$email == (try Self.normalized(email: email))).first()
    }
}
