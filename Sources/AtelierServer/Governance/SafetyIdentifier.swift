import AtelierCore
import Crypto
import Foundation

/// The `safety_identifier` sent upstream: a SHA-256 of the owner id, so OpenAI can tell users apart for abuse
/// monitoring without learning who they are. 64 hex characters (the upstream's maximum).
enum SafetyIdentifier {
    static func forOwner(_ owner: String) -> String {
        SHA256.hash(data: Data("atelier-user:\(owner)".utf8)).hexString
    }
}
