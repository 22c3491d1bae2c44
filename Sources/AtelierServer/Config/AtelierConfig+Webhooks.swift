import Foundation

extension AtelierConfig {
    /// Outgoing webhooks: where they may go, how long and how often they are retried, how many run at once.
    public struct Webhooks: Sendable {
        /// `WEBHOOK_ALLOW_PRIVATE=true`: endpoints may resolve to loopback, link-local and private addresses.
        public var allowPrivate = false
        /// First retry after this many seconds, doubling each attempt (capped at `maxDelaySeconds`).
        public var retryBaseSeconds = 30.0
        public var maxDelaySeconds = 4 * 3600.0
        /// A delivery not accepted within this many seconds of its event (or of a manual resend) ends `failed`.
        public var maxAgeSeconds = 86_400.0
        /// One attempt (connect, send, answer) may take this long.
        public var timeoutSeconds = 10.0
        /// Deliveries in flight at once per dispatcher (process).
        public var concurrency = 8
        /// How often a dispatcher looks for due deliveries.
        public var pollSeconds = 1.0
        public var maxPerOwner = 20
        public var maxURLLength = 2048
        /// `WEBHOOK_ENCRYPTION_KEY` (32 bytes, base64): endpoint secrets are stored sealed with AES-GCM under it;
        /// without it they are stored as given (see docs/API.md "Webhooks").
        public var encryptionKey: Data?

        public init() {}

        /// A claimed delivery is not handed to another dispatcher until this many seconds have passed.
        var leaseSeconds: Double { timeoutSeconds * 2 + 5 }

        static func fromEnvironment(_ env: [String: String], problems: inout [String]) -> Webhooks {
            var hooks = Webhooks()
            func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
            func seconds(_ name: String, _ fallback: Double, _ range: ClosedRange<Double>, _ what: String = "a number of seconds") -> Double
            {
                guard let raw = value(name) else { return fallback }
                guard let number = Double(raw), range.contains(number) else {
                    problems.append("\(name)=\(raw) must be \(what) in \(range.lowerBound)…\(range.upperBound)")
                    return fallback
                }
                return number
            }
            if let raw = value("WEBHOOK_ALLOW_PRIVATE")?.lowercased() {
                if ["1", "true", "yes", "on"].contains(raw) {
                    hooks.allowPrivate = true
                } else if !["0", "false", "no", "off"].contains(raw) {
                    problems.append("WEBHOOK_ALLOW_PRIVATE=\(raw) must be true or false")
                }
            }
            hooks.retryBaseSeconds = seconds("WEBHOOK_RETRY_BASE_SECONDS", hooks.retryBaseSeconds, 0.05...3600)
            hooks.maxAgeSeconds = seconds("WEBHOOK_MAX_AGE_SECONDS", hooks.maxAgeSeconds, 1...30 * 86_400)
            hooks.timeoutSeconds = seconds("WEBHOOK_TIMEOUT_SECONDS", hooks.timeoutSeconds, 1...120)
            hooks.pollSeconds = seconds("WEBHOOK_POLL_SECONDS", hooks.pollSeconds, 0.05...60)
            hooks.concurrency = Int(seconds("WEBHOOK_CONCURRENCY", Double(hooks.concurrency), 1...256, "a count"))
            if let raw = value("WEBHOOK_ENCRYPTION_KEY") {
                if let key = Data(base64Encoded: raw), key.count == 32 {
                    hooks.encryptionKey = key
                } else {
                    problems.append("WEBHOOK_ENCRYPTION_KEY must be 32 bytes in base64 (make one with `openssl rand -base64 32`)")
                }
            }
            return hooks
        }
    }
}
