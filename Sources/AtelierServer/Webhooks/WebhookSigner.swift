import Crypto
import Foundation

/// Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-signature` is `v1,` and the base64
/// HMAC-SHA256 of `"<webhook-id>.<webhook-timestamp>.<body>"`, keyed with the base64-decoded part of `whsec_…`.
enum WebhookSigner {
    static let secretPrefix = "whsec_"

    /// A new endpoint secret: 32 random bytes, as `whsec_<base64>`.
    static func newSecret() -> String {
        secretPrefix + Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    /// The signing key inside `whsec_…` (or a bare base64 secret); nil when it is not base64.
    static func key(from secret: String) -> Data? {
        let encoded = secret.hasPrefix(secretPrefix) ? String(secret.dropFirst(secretPrefix.count)) : secret
        guard let key = Data(base64Encoded: encoded), !key.isEmpty else { return nil }
        return key
    }

    static func signature(id: String, timestamp: Int, body: Data, key: Data) -> String {
        var message = Data("\(id).\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The three headers of one attempt (`timestamp` is the attempt's time, so retries stay within receivers'
    /// tolerance; the id stays the same).
    static func headers(id: String, timestamp: Int, body: Data, key: Data) -> [(String, String)] {
        [
            ("webhook-id", id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signature(id: id, timestamp: timestamp, body: body, key: key)),
        ]
    }
}

/// The event types an endpoint may subscribe to.
enum WebhookEvent {
    static let jobSucceeded = "job.succeeded"
    static let jobFailed = "job.failed"
    static let jobCanceled = "job.canceled"
    static let spendCapReached = "spend.cap_reached"
    static let modelShutdownSoon = "model.shutdown_soon"

    static let all = [jobSucceeded, jobFailed, jobCanceled, spendCapReached, modelShutdownSoon]
    static let jobEvents: Set<String> = [jobSucceeded, jobFailed, jobCanceled]
}
