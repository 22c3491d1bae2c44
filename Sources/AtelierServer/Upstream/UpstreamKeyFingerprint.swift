import Crypto
import Foundation

/// Tells one upstream key from another without storing it: the first 16 hex digits of its SHA-256 (a key is far too
/// random to be guessed from this). Kept with a key's stop, so replacing the key under the same label clears it.
enum UpstreamKeyFingerprint {
    static func of(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
