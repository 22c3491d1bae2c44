import Fluent
import Foundation

/// An account: email + bcrypt password hash, role, the admin-set `verified` flag, consent time, and its own
/// limits (nil = the configured defaults). The owner string of everything a user makes is `ownerKey`.
public final class UserRecord: Model, @unchecked Sendable {
    public static let schema = "users"

    public enum Role: String, Codable, Sendable, CaseIterable { case admin, member }
    /// `pending`: waiting for an admin's approval (may sign in, may not create jobs or keys); `suspended`: every
    /// session and key refused at once.
    public enum Status: String, Codable, Sendable, CaseIterable { case active, pending, suspended }

    @ID(key: .id) public var id: UUID?
    @Field(key: "email") public var email: String
    @Field(key: "password_hash") public var passwordHash: String
    @Field(key: "role") public var role: String
    @Field(key: "verified") public var verified: Bool
    @Field(key: "status") public var status: String
    @OptionalField(key: "consent_at") public var consentAt: Double?
    @OptionalField(key: "daily_cap_nano") public var dailyCapNano: Int64?
    @OptionalField(key: "monthly_cap_nano") public var monthlyCapNano: Int64?
    @OptionalField(key: "requests_per_minute") public var requestsPerMinute: Int?
    @OptionalField(key: "images_per_minute") public var imagesPerMinute: Int?
    @Field(key: "created_at") public var createdAt: Double

    public init() {}

    public init(
        id: UUID = UUID(), email: String, passwordHash: String, role: Role, status: Status = .active, consentAt: Double?, now: Double
    ) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.role = role.rawValue
        self.verified = false
        self.status = status.rawValue
        self.consentAt = consentAt
        self.createdAt = now
    }

    public var isAdmin: Bool { role == Role.admin.rawValue }
    public var accountStatus: Status { Status(rawValue: status) ?? .suspended }

    /// The `owner` column value of this user's jobs, images, events and spend rows.
    public var ownerKey: String { (id ?? UUID()).uuidString.lowercased() }
}
