import Foundation

/// `PATCH /v1/admin/users/{id}` body: only the fields present change; `null` clears a cap or limit
/// (back to the configured default).
struct AdminUserPatch: Decodable {
    enum Change<Value> {
        case keep
        case set(Value?)
    }

    var role: UserRecord.Role?
    var verified: Bool?
    /// `active` approves a pending account or lifts a suspension; `suspended` stops its sessions and keys at once.
    var status: UserRecord.Status?
    var dailyCapUSD: Change<Decimal> = .keep
    var monthlyCapUSD: Change<Decimal> = .keep
    var requestsPerMinute: Change<Int> = .keep
    var imagesPerMinute: Change<Int> = .keep

    enum CodingKeys: String, CodingKey {
        case role, verified, status
        case dailyCapUSD = "daily_cap_usd", monthlyCapUSD = "monthly_cap_usd"
        case requestsPerMinute = "requests_per_minute", imagesPerMinute = "images_per_minute"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decodeIfPresent(UserRecord.Role.self, forKey: .role)
        verified = try container.decodeIfPresent(Bool.self, forKey: .verified)
        status = try container.decodeIfPresent(UserRecord.Status.self, forKey: .status)
        func change<T: Decodable>(_ key: CodingKeys) throws -> Change<T> {
            guard container.contains(key) else { return .keep }
            return .set(try container.decodeNil(forKey: key) ? nil : container.decode(T.self, forKey: key))
        }
        dailyCapUSD = try change(.dailyCapUSD)
        monthlyCapUSD = try change(.monthlyCapUSD)
        requestsPerMinute = try change(.requestsPerMinute)
        imagesPerMinute = try change(.imagesPerMinute)
    }

    /// Applies the changes, refusing negative caps and limits below 1.
    func apply(to user: UserRecord) throws {
        if let role { user.role = role.rawValue }
        if let verified { user.verified = verified }
        if let status { user.status = status.rawValue }
        if case .set(let usd) = dailyCapUSD { user.dailyCapNano = try Self.nano(usd, field: "daily_cap_usd") }
        if case .set(let usd) = monthlyCapUSD { user.monthlyCapNano = try Self.nano(usd, field: "monthly_cap_usd") }
        if case .set(let value) = requestsPerMinute { user.requestsPerMinute = try Self.limit(value, field: "requests_per_minute") }
        if case .set(let value) = imagesPerMinute { user.imagesPerMinute = try Self.limit(value, field: "images_per_minute") }
    }

    static func nano(_ usd: Decimal?, field: String) throws -> Int64? {
        guard let usd else { return nil }
        guard usd >= 0, usd < 1_000_000_000 else { throw APIError.invalid(field, "\(field) must be a USD amount of 0 or more, or null.") }
        return CostNano.from(usd: usd)
    }

    static func limit(_ value: Int?, field: String) throws -> Int? {
        guard let value else { return nil }
        guard (1...1_000_000).contains(value) else { throw APIError.invalid(field, "\(field) must be 1…1000000, or null.") }
        return value
    }
}
