import Fluent
import Foundation

/// An API key: only its SHA-256 is stored, with a short prefix kept so people can tell keys apart.
public final class APIKeyRecord: Model, @unchecked Sendable {
    public static let schema = "api_keys"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "user_id") public var user: UserRecord
    @Field(key: "name") public var name: String
    @Field(key: "prefix") public var prefix: String
    @Field(key: "key_hash") public var keyHash: String
    @Field(key: "created_at") public var createdAt: Double
    @OptionalField(key: "last_used_at") public var lastUsedAt: Double?
    @OptionalField(key: "revoked_at") public var revokedAt: Double?
    /// Comma-separated `APIKeyScope` values.
    @Field(key: "scopes") public var scopes: String

    public init() {}

    init(
        id: UUID = UUID(), userID: UUID, name: String, prefix: String, keyHash: String, scopes: Set<APIKeyScope> = APIKeyScope.defaults,
        now: Double
    ) {
        self.id = id
        self.$user.id = userID
        self.name = name
        self.prefix = prefix
        self.keyHash = keyHash
        self.scopes = APIKeyScope.encode(scopes)
        self.createdAt = now
    }

    var scopeSet: Set<APIKeyScope> { APIKeyScope.decode(scopes) }
}
