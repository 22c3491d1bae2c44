import Vapor

/// What an API key may do. A new key gets `generate` + `read`; `admin` and `metrics` only for admins.
/// Sessions and the local user are not limited by scopes (their role decides).
public enum APIKeyScope: String, Codable, Sendable, CaseIterable, Comparable {
    /// Create, cancel, retry and delete jobs and images.
    case generate
    /// Read jobs, images, events and the account.
    case read
    /// The `/v1/admin` routes (admins only).
    case admin
    /// `GET /v1/metrics` (admins only).
    case metrics

    public static let defaults: Set<APIKeyScope> = [.generate, .read]

    public static func < (a: APIKeyScope, b: APIKeyScope) -> Bool { a.rawValue < b.rawValue }

    static func encode(_ scopes: Set<APIKeyScope>) -> String { scopes.sorted().map(\.rawValue).joined(separator: ",") }

    static func decode(_ text: String) -> Set<APIKeyScope> {
        Set(text.split(separator: ",").compactMap { APIKeyScope(rawValue: String($0)) })
    }

    /// The scope a request needs when made with an API key.
    static func required(method: HTTPMethod, path: String) -> APIKeyScope {
        if path == "/v1/metrics" || path.hasPrefix("/v1/metrics/") { return .metrics }
        if path.hasPrefix("/v1/admin/") || path == "/v1/admin" { return .admin }
        return RequireCaller.isSafe(method) ? .read : .generate
    }

    /// The scopes asked for when creating a key: nil means the defaults; admin-only scopes need an admin.
    static func requested(_ names: [String]?, isAdmin: Bool) throws -> Set<APIKeyScope> {
        guard let names else { return defaults }
        var scopes = Set<APIKeyScope>()
        for name in names {
            guard let scope = APIKeyScope(rawValue: name) else {
                throw APIError.invalid("scopes", "Unknown scope '\(name)': use generate, read, admin or metrics.")
            }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw APIError.invalid("scopes", "Give at least one scope: generate, read, admin or metrics.") }
        if !isAdmin && !scopes.isDisjoint(with: [.admin, .metrics]) {
            throw APIError.invalid("scopes", "Only admins may create keys with the admin or metrics scope.")
        }
        return scopes
    }
}
