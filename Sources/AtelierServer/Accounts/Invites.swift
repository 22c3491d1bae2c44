import Fluent
import Foundation
import SQLKit

/// Invitations: an admin makes a link (`/login.html#invite=TOKEN`, shown once) that one sign-up may use before it
/// expires; that account is active at once, whatever `SIGNUP` says.
struct Invites: Sendable {
    static let maxHours = 24 * 30
    let database: any Database
    let clock: AtelierClock

    struct Issued: Sendable {
        var record: InviteRecord
        var token: String
    }

    func create(by admin: UUID?, hours: Int) async throws -> Issued {
        guard (1...Self.maxHours).contains(hours) else {
            throw APIError.invalid("expires_in_hours", "expires_in_hours must be 1…\(Self.maxHours).")
        }
        let token = SecretToken.random()
        let now = clock.now()
        let record = InviteRecord(
            tokenHash: SecretToken.sha256(token), createdBy: admin, now: now, expiresAt: now + Double(hours) * 3600)
        try await record.create(on: database)
        return Issued(record: record, token: token)
    }

    /// Marks the invitation used by `userID` inside the caller's transaction; false when unknown, used or expired.
    static func consume(_ token: String, by userID: UUID, now: Double, on database: any Database) async throws -> Bool {
        guard token.count < 200 else { return false }
        return try await database.sql.raw(
            """
            UPDATE invites SET used_at = \(bind: now), used_by = \(bind: userID)
            WHERE token_hash = \(bind: SecretToken.sha256(token)) AND used_at IS NULL AND expires_at > \(bind: now)
            RETURNING id
            """
        ).all().count == 1
    }
}
