import Foundation

extension AtelierConfig {
    /// Accounts, throttling, cost governance and privacy settings (see README "Accounts and limits").
    public struct Access: Sendable {
        /// `SIGNUP`: who may create an account from the web (invitations and the setup link work in every mode).
        public enum Signup: String, Sendable, CaseIterable {
            /// Only invitations (and the one-time setup link for the first admin).
            case closed
            /// New accounts wait as `pending` until an admin approves them (the default).
            case approval
            /// New accounts are active at once.
            case open
        }

        public var signup: Signup = .approval
        /// false only with `ATELIER_AUTH=off` on a loopback bind: one local user ("local", admin, verified).
        public var loginRequired: Bool
        /// nil: Secure cookies when the request came over TLS (directly or `X-Forwarded-Proto: https`).
        public var secureCookies: Bool?
        /// `KILL_SWITCH=true`: new jobs are refused whatever the admin setting says.
        public var killSwitch: Bool
        /// Whole nano-dollars; nil = no cap. The admin page may override the global cap.
        public var globalDailyCapNano: Int64?
        /// How the global cap was chosen (`serve` warns unless it was set explicitly).
        public var globalDailyCapSource: CapSource = .explicit
        public var defaultDailyCapNano: Int64?
        public var defaultMonthlyCapNano: Int64?
        /// Defaults for users without their own limits; applied to the user and to each of their keys.
        public var requestsPerMinute: Int
        public var imagesPerMinute: Int
        /// Sign-in attempts per minute per email address.
        public var loginAttemptsPerMinute: Int
        /// Delete finished jobs and their images older than this many days; 0 keeps them (admin may override).
        public var retentionDays: Int
        public var sessionDays: Int
        /// bcrypt cost (4…31); tests use 4.
        public var bcryptCost: Int
        /// Open SSE streams and long waits per user and in all on one instance (`OpenStreamLimiter`).
        public var openStreamsPerUser = 8
        public var openStreamsTotal = 512
        /// A connection with nothing read or written for this long is closed (longer than the longest wait
        /// Atelier holds without writing: the OpenAI-compatible routes' 900 s; SSE streams write every 15 s).
        public var httpIdleTimeoutSeconds = 960
        /// A streamed upload whose body has not arrived within this many seconds is refused (408).
        public var requestBodyTimeoutSeconds = 600
        /// The largest ZIP download (`/v1/me/export`, `/v1/images/zip`), summed from the stored sizes.
        public var maxArchiveBytes = 4096 * 1_048_576

        public init(
            loginRequired: Bool = true, secureCookies: Bool? = nil, killSwitch: Bool = false,
            globalDailyCapNano: Int64? = nil, defaultDailyCapNano: Int64? = nil, defaultMonthlyCapNano: Int64? = nil,
            requestsPerMinute: Int = 600, imagesPerMinute: Int = 30, loginAttemptsPerMinute: Int = 10,
            retentionDays: Int = 0, sessionDays: Int = 30, bcryptCost: Int = 12
        ) {
            self.loginRequired = loginRequired
            self.secureCookies = secureCookies
            self.killSwitch = killSwitch
            self.globalDailyCapNano = globalDailyCapNano
            self.defaultDailyCapNano = defaultDailyCapNano
            self.defaultMonthlyCapNano = defaultMonthlyCapNano
            self.requestsPerMinute = requestsPerMinute
            self.imagesPerMinute = imagesPerMinute
            self.loginAttemptsPerMinute = loginAttemptsPerMinute
            self.retentionDays = retentionDays
            self.sessionDays = sessionDays
            self.bcryptCost = bcryptCost
        }

        /// Reads the access settings, adding a line to `problems` for each invalid one.
        static func fromEnvironment(_ env: [String: String], problems: inout [String]) -> Access {
            var access = Access()
            func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
            func usd(_ name: String) -> Int64? {
                guard let raw = value(name) else { return nil }
                guard let amount = Decimal(string: raw), amount >= 0 else {
                    problems.append("\(name)=\(raw) must be an amount in USD such as 25 or 2.50")
                    return nil
                }
                return CostNano.from(usd: amount)
            }
            func int(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) -> Int {
                guard let raw = value(name) else { return fallback }
                guard let number = Int(raw), range.contains(number) else {
                    problems.append("\(name)=\(raw) must be a whole number in \(range.lowerBound)…\(range.upperBound)")
                    return fallback
                }
                return number
            }
            switch value("ATELIER_AUTH")?.lowercased() {
            case nil, "on", "required", "true": access.loginRequired = true
            case "off", "false": access.loginRequired = false
            case let other?: problems.append("ATELIER_AUTH=\(other) must be on or off")
            }
            switch value("COOKIE_SECURE")?.lowercased() {
            case nil, "auto": access.secureCookies = nil
            case "true", "1", "yes": access.secureCookies = true
            case "false", "0", "no": access.secureCookies = false
            case let other?: problems.append("COOKIE_SECURE=\(other) must be auto, true or false")
            }
            switch value("SIGNUP")?.lowercased() {
            case nil: access.signup = .approval
            case let raw?:
                if let policy = Signup(rawValue: raw) {
                    access.signup = policy
                } else {
                    problems.append("SIGNUP=\(raw) must be closed, approval or open")
                }
            }
            access.killSwitch = ["1", "true", "yes", "on"].contains(value("KILL_SWITCH")?.lowercased() ?? "")
            let spendsMoney = value("OPENAI_API_KEY") != nil && value("IMAGE_PROVIDER")?.lowercased() != "offline"
            (access.globalDailyCapNano, access.globalDailyCapSource) = Self.cap(
                "GLOBAL_DAILY_CAP_USD", value("GLOBAL_DAILY_CAP_USD"), default: spendsMoney ? Self.defaultGlobalDailyCapUSD : nil,
                problems: &problems)
            access.defaultDailyCapNano =
                Self.cap(
                    "DEFAULT_DAILY_CAP_USD", value("DEFAULT_DAILY_CAP_USD"), default: spendsMoney ? Self.defaultMemberDailyCapUSD : nil,
                    problems: &problems
                ).nano
            access.defaultMonthlyCapNano = usd("DEFAULT_MONTHLY_CAP_USD")
            access.requestsPerMinute = int("RATE_LIMIT_REQUESTS_PER_MINUTE", 600, 1...1_000_000)
            access.imagesPerMinute = int("RATE_LIMIT_IMAGES_PER_MINUTE", 30, 1...1_000_000)
            access.loginAttemptsPerMinute = int("LOGIN_ATTEMPTS_PER_MINUTE", 10, 1...10_000)
            access.retentionDays = int("RETENTION_DAYS", 0, 0...36_500)
            access.sessionDays = int("SESSION_DAYS", 30, 1...365)
            access.bcryptCost = int("BCRYPT_COST", 12, 4...31)
            access.openStreamsPerUser = int("MAX_OPEN_STREAMS_PER_USER", 8, 1...10_000)
            access.openStreamsTotal = int("MAX_OPEN_STREAMS", 512, 1...1_000_000)
            access.httpIdleTimeoutSeconds = int("HTTP_IDLE_TIMEOUT_SECONDS", 960, 5...86_400)
            access.requestBodyTimeoutSeconds = int("REQUEST_BODY_TIMEOUT_SECONDS", 600, 1...86_400)
            access.maxArchiveBytes = int("MAX_ARCHIVE_MB", 4096, 1...1_048_576) * 1_048_576
            return access
        }
    }
}
