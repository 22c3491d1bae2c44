import Fluent
import Foundation
import SQLKit
import Vapor

/// The one-time setup link for the first admin: while no admin exists, `serve` stores the SHA-256 of a fresh
/// token (`app_settings.setup_token`) and prints the link to its log; signing up with the token makes that
/// account the admin and deletes the token in the same transaction, so exactly one sign-up can use it.
enum SetupToken {
    static let settingName = "setup_token"

    /// A new token when login is required and no admin exists yet (nil otherwise); replaces an older one.
    static func issueIfNoAdmin(_ app: Application) async throws -> String? {
        guard app.atelier.config.access.loginRequired, try await adminCount(on: app.db) == 0 else { return nil }
        let token = SecretToken.random()
        try await app.db.sql.raw(
            """
            INSERT INTO app_settings (name, value) VALUES (\(bind: settingName), \(bind: SecretToken.sha256(token)))
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """
        ).run()
        return token
    }

    /// Uses the token up inside the caller's transaction; false when it is wrong, used, or an admin exists.
    static func consume(_ token: String, on database: any Database) async throws -> Bool {
        guard token.count < 200 else { return false }
        let deleted = try await database.sql.raw(
            """
            DELETE FROM app_settings WHERE name = \(bind: settingName) AND value = \(bind: SecretToken.sha256(token))
            RETURNING name
            """
        ).all()
        guard deleted.count == 1 else { return false }
        return try await adminCount(on: database) == 0
    }

    /// Forgets any setup token (an admin now exists).
    static func discard(on database: any Database) async throws {
        try await database.sql.raw("DELETE FROM app_settings WHERE name = \(bind: settingName)").run()
    }

    static func adminCount(on database: any Database) async throws -> Int {
        try await UserRecord.query(on: database).filter(\.$role == UserRecord.Role.admin.rawValue).count()
    }
}
