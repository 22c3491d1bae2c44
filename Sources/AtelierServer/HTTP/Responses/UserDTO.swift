import Foundation
import Vapor

/// A user as the API shows it: never the password hash.
struct UserDTO: Content {
    var id: UUID
    var email: String
    var role: String
    var verified: Bool
    var status: String
    var consentAt: Date?
    var createdAt: Date
    var dailyCapUSD: Decimal?
    var monthlyCapUSD: Decimal?
    var requestsPerMinute: Int?
    var imagesPerMinute: Int?

    enum CodingKeys: String, CodingKey {
        case id, email, role, verified, status
        case consentAt = "consent_at", createdAt = "created_at"
        case dailyCapUSD = "daily_cap_usd", monthlyCapUSD = "monthly_cap_usd"
        case requestsPerMinute = "requests_per_minute", imagesPerMinute = "images_per_minute"
    }

    init(_ user: UserRecord) {
        id = user.id ?? UUID()
        email = user.email
        role = user.role
        verified = user.verified
        status = user.status
        consentAt = user.consentAt.map(Date.init(timeIntervalSince1970:))
        createdAt = Date(timeIntervalSince1970: user.createdAt)
        dailyCapUSD = CostNano.usd(user.dailyCapNano)
        monthlyCapUSD = CostNano.usd(user.monthlyCapNano)
        requestsPerMinute = user.requestsPerMinute
        imagesPerMinute = user.imagesPerMinute
    }
}

/// What `GET /v1/auth/session` and sign-in answer.
struct SessionDTO: Content {
    var authenticated: Bool
    var loginRequired: Bool
    var user: UserDTO?
    /// Send as `X-CSRF-Token` on writes (also in the `atelier_csrf` cookie).
    var csrfToken: String?

    enum CodingKeys: String, CodingKey {
        case authenticated, user
        case loginRequired = "login_required", csrfToken = "csrf_token"
    }
}

/// An API key as listed; `key` only in the answer that created it.
struct APIKeyDTO: Content {
    var id: UUID
    var name: String
    var prefix: String
    var createdAt: Date
    var lastUsedAt: Date?
    var revokedAt: Date?
    var scopes: [String]
    var key: String?

    enum CodingKeys: String, CodingKey {
        case id, name, prefix, key, scopes
        case createdAt = "created_at", lastUsedAt = "last_used_at", revokedAt = "revoked_at"
    }

    init(_ record: APIKeyRecord, secret: String? = nil) {
        id = record.id ?? UUID()
        name = record.name
        prefix = record.prefix
        createdAt = Date(timeIntervalSince1970: record.createdAt)
        lastUsedAt = record.lastUsedAt.map(Date.init(timeIntervalSince1970:))
        revokedAt = record.revokedAt.map(Date.init(timeIntervalSince1970:))
        scopes = record.scopeSet.sorted().map(\.rawValue)
        key = secret
    }
}
