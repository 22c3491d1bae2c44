import Fluent
import Foundation
import SQLKit
import Vapor

/// Creating accounts and checking passwords. The first account ever created becomes an admin.
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

    /// Creates an account; `role` nil means admin for the first account and member otherwise.
    func create(email: String, password: String, role: UserRecord.Role? = nil, consent: Bool) async throws -> UserRecord {
        let email = try Self.normalized(email: email)
        try Self.checkPassword(password)
        if try await UserRecord.query(on: database).filter(\.$email == email).first() != nil {
            throw APIError(status: .conflict, code: "email_taken", message: "An account with this email exists; sign in instead.", field: "email")
        }
        let hash = try await hashPassword(password)
        let noAccountYet = try await UserRecord.query(on: database).count() == 0
        let mayBeFirst = role == nil && noAccountYet
        let now = clock.now()
        let user = UserRecord(
            email: email, passwordHash: hash, role: role ?? .member, consentAt: consent ? now : nil, now: now)
        do {
            try await database.transaction { db in
                try await user.create(on: db)
                if mayBeFirst, try await Self.claimFirstAdmin(email: email, on: db) {
                    user.role = UserRecord.Role.admin.rawValue
                    try await user.save(on: db)
                }
            }
        } catch {
            throw APIError(status: .conflict, code: "email_taken", message: "An account with this email exists; sign in instead.", field: "email")
        }
        return user
    }

    /// Takes the bootstrap admin's place (a unique settings row): of several sign-ups on an empty database at the
    /// same instant, exactly one wins, where a count taken before inserting would let them all. Deleting that
    /// account frees the place (`releaseFirstAdmin`), so a database emptied of accounts starts over.
    private static func claimFirstAdmin(email: String, on database: any Database) async throws -> Bool {
        try await (database as! any SQLDatabase).raw("""
            INSERT INTO app_settings (name, value) VALUES ('first_admin', \(bind: email))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """).all().count == 1
    }

    static func releaseFirstAdmin(email: String, on database: any Database) async throws {
        try await (database as! any SQLDatabase)
            .raw("DELETE FROM app_settings WHERE name = 'first_admin' AND value = \(bind: email)").run()
    }

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

    func hashPassword(_ password: String) async throws -> String {
        let cost = access.bcryptCost
        return try await threadPool.runIfActive { try Bcrypt.hash(password, cost: cost) }
    }

    func find(email: String) async throws -> UserRecord? {
        try await UserRecord.query(on: database).filter(\.$email == (try Self.normalized(email: email))).first()
    }
}
