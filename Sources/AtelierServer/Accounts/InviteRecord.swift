import Fluent
import Foundation

/// A single-use, expiring invitation an admin made: whoever signs up with its token skips approval.
/// Only the token's SHA-256 is stored.
final class InviteRecord: Model, @unchecked Sendable {
    static let schema = "invites"

    @ID(key: .id) var id: UUID?
    @Field(key: "token_hash") var tokenHash: String
    @OptionalField(key: "created_by") var createdBy: UUID?
    @Field(key: "created_at") var createdAt: Double
    @Field(key: "expires_at") var expiresAt: Double
    @OptionalField(key: "used_at") var usedAt: Double?
    @OptionalField(key: "used_by") var usedBy: UUID?

    init() {}

    init(tokenHash: String, createdBy: UUID?, now: Double, expiresAt: Double) {
        self.id = UUID()
        self.tokenHash = tokenHash
        self.createdBy = createdBy
        self.createdAt = now
        self.expiresAt = expiresAt
    }
}
