import Crypto
import Foundation

/// Stores endpoint secrets: sealed with AES-GCM under `WEBHOOK_ENCRYPTION_KEY` when it is set ("aesgcm:<base64>"),
/// as given otherwise ("plain:<secret>"). Either form opens with the key; a sealed one never without it.
struct WebhookSecretBox: Sendable {
    let key: Data?

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    func seal(_ secret: String) throws -> String {
        guard let key else { return "plain:" + secret }
        let box = try AES.GCM.seal(Data(secret.utf8), using: SymmetricKey(data: key))
        guard let combined = box.combined else { throw Unavailable(description: "AES-GCM produced no sealed box") }
        return "aesgcm:" + combined.base64EncodedString()
    }

    func open(_ stored: String) throws -> String {
        if stored.hasPrefix("plain:") { return String(stored.dropFirst(6)) }
        guard stored.hasPrefix("aesgcm:"), let sealed = Data(base64Encoded: String(stored.dropFirst(7))) else {
            throw Unavailable(description: "the stored endpoint secret is in an unknown form")
        }
        guard let key else {
            throw Unavailable(description: "this endpoint's secret is encrypted; set WEBHOOK_ENCRYPTION_KEY to the key it was sealed with")
        }
        do {
            let plain = try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: SymmetricKey(data: key))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw Unavailable(description: "this endpoint's secret does not open with WEBHOOK_ENCRYPTION_KEY (was the key changed?)")
        }
    }
}
