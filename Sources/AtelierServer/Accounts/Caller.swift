import Foundation
import Vapor

/// Who is calling: a signed-in user (session cookie), an API key's user, or the local single user when login is
/// switched off. Set by `CallerResolver` on every `/v1` request that carries credentials.
struct Caller: Sendable {
    enum Credential: Sendable, Equatable {
        case session(csrfToken: String)
        case apiKey(UUID)
        case local
    }

    /// nil for the local user.
    var userID: UUID?
    var email: String?
    /// The `owner` value of what the caller makes: the user id in lowercase, or "local".
    var owner: String
    var isAdmin: Bool
    var verified: Bool
    var status: UserRecord.Status = .active
    /// An API key's scopes; nil for sessions and the local user (their role decides).
    var scopes: Set<APIKeyScope>? = nil
    var credential: Credential
    var limits: Limits

    struct Limits: Sendable {
        var requestsPerMinute: Int
        var imagesPerMinute: Int
        var dailyCapNano: Int64?
        var monthlyCapNano: Int64?
    }

    static let localOwner = "local"

    static func local(_ access: AtelierConfig.Access) -> Caller {
        Caller(
            userID: nil, email: nil, owner: localOwner, isAdmin: true, verified: true, credential: .local,
            limits: Limits(
                requestsPerMinute: access.requestsPerMinute, imagesPerMinute: access.imagesPerMinute,
                dailyCapNano: access.defaultDailyCapNano, monthlyCapNano: access.defaultMonthlyCapNano))
    }

    static func user(
        _ user: UserRecord, credential: Credential, scopes: Set<APIKeyScope>? = nil, access: AtelierConfig.Access
    ) -> Caller {
        Caller(
            userID: user.id, email: user.email, owner: user.ownerKey, isAdmin: user.isAdmin, verified: user.verified,
            status: user.accountStatus, scopes: scopes, credential: credential,
            limits: Limits(
                requestsPerMinute: user.requestsPerMinute ?? access.requestsPerMinute,
                imagesPerMinute: user.imagesPerMinute ?? access.imagesPerMinute,
                dailyCapNano: user.dailyCapNano ?? access.defaultDailyCapNano,
                monthlyCapNano: user.monthlyCapNano ?? access.defaultMonthlyCapNano))
    }

    /// The API key the request was made with, if any.
    var keyID: UUID? {
        if case .apiKey(let id) = credential { return id }
        return nil
    }
}

extension Request {
    private struct CallerKey: StorageKey { typealias Value = Caller }

    /// The authenticated caller; nil before `CallerResolver` ran or when no credentials were sent.
    var caller: Caller? {
        get { storage[CallerKey.self] }
        set { storage[CallerKey.self] = newValue }
    }

    /// The caller, or 401.
    func requireCaller() throws -> Caller {
        guard let caller else {
            throw APIError(
                status: .unauthorized, code: "unauthenticated",
                message: "Sign in, or send an API key as 'Authorization: Bearer atl_…'.")
        }
        return caller
    }

    /// True when an admin asked for everyone's records with `?all=true`.
    var wantsAllOwners: Bool { (caller?.isAdmin ?? false) && (query[Bool.self, at: "all"] ?? false) }
}
