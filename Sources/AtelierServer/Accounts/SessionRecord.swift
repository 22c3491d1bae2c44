import Fluent
import Foundation

/// A browser session: the cookie's SHA-256 and the CSRF token every cookie-authenticated write must echo.
final class SessionRecord: Model, @unchecked Sendable {
    static let schema = "sessions"

    @ID(key: .id) var id: UUID?
    @Parent(key: "user_id") var user: UserRecord
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "csrf_token") var csrfToken: String
    @Field(key: "created_at") var createdAt: Double
    @Field(key: "expires_at") var expiresAt: Double

    init() {}

    init(userID: UUID, tokenHash: String, csrfToken: String, now: Double, expiresAt: Double) {
        self.id = UUID()
        self.$user.id = userID
        self.tokenHash = tokenHash
        self.csrfToken = csrfToken
        self.createdAt = now
        self.expiresAt = expiresAt
    }
}
