import Foundation

/// What a rate-limit counter (`rate_counters.subject`) counts: requests or images, of an account, of one API key,
/// or of an address that is not signed in (requests, sign-in attempts). `stored` is the one mapping to the database.
enum RateLimitSubject: Hashable, Sendable {
    enum Counted: String, Sendable { case requests = "req", images = "img" }

    case owner(Counted, String)
    case apiKey(Counted, UUID)
    case address(String)
    /// Sign-in attempts from an address.
    case loginAddress(String)

    var stored: String {
        switch self {
        case .owner(let counted, let owner): "\(counted.rawValue):\(owner)"
        case .apiKey(let counted, let key): "\(counted.rawValue):key:\(key.uuidString.lowercased())"
        case .address(let address): "req:ip:\(address)"
        case .loginAddress(let address): "login:ip:\(address)"
        }
    }

    /// The subjects a caller's hits count against: the account, and the key it used.
    static func caller(_ counted: Counted, owner: String, key: UUID?) -> [RateLimitSubject] {
        [.owner(counted, owner)] + (key.map { [.apiKey(counted, $0)] } ?? [])
    }
}
