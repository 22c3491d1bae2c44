import Foundation

extension AtelierConfig {
    /// One upstream OpenAI key. `label` is what jobs, logs, metrics and the admin page show; the secret never leaves
    /// the provider (its description is redacted).
    public struct UpstreamKey: Sendable, Equatable, CustomStringConvertible {
        public var label: String
        public var apiKey: String
        public var organization: String?
        public var project: String?

        public init(label: String, apiKey: String, organization: String? = nil, project: String? = nil) {
            self.label = label
            self.apiKey = apiKey
            self.organization = organization
            self.project = project
        }

        public var description: String { "UpstreamKey(\(label), <redacted>)" }
    }

    /// Images and requests allowed per window (a minute unless `OPENAI_RATE_WINDOW_SECONDS` scales it) for one
    /// key and model; `key` nil = every key, `model` "*" = every model.
    public struct RateLimitRule: Sendable, Equatable {
        public var key: String?
        public var model: String
        public var imagesPerWindow: Int?
        public var requestsPerWindow: Int?

        public init(key: String? = nil, model: String, imagesPerWindow: Int? = nil, requestsPerWindow: Int? = nil) {
            self.key = key
            self.model = model
            self.imagesPerWindow = imagesPerWindow
            self.requestsPerWindow = requestsPerWindow
        }
    }

    /// How Atelier lives within the upstream's rate limits (docs/ARCHITECTURE.md, "Upstream rate limits").
    public struct Upstream: Sendable {
        /// `OPENAI_API_KEYS`; empty = the single `OPENAI_API_KEY` (label `default`).
        public var keys: [UpstreamKey] = []
        /// `OPENAI_RATE_LIMITS`: pacing, most specific rule first (key+model, key+*, model, *).
        public var rules: [RateLimitRule] = []
        /// The period the limits count over: 60 (a minute); tests and benchmarks scale it down.
        public var windowSeconds: Double = 60
        /// `JOB_RATE_LIMIT_WAIT`: a job still waiting for the rate limit after this long fails.
        public var maxWaitSeconds: Double = 3600
        /// Pause after a 429 that says nothing about when to come back.
        public var defaultPauseSeconds: Double = 5

        public init() {}

        public func limits(key: String, model: String) -> (images: Int?, requests: Int?) {
            let order: [(String?, String)] = [(key, model), (key, "*"), (nil, model), (nil, "*")]
            var images: Int?
            var requests: Int?
            for (k, m) in order {
                for rule in rules where rule.key == k && rule.model == m {
                    images = images ?? rule.imagesPerWindow
                    requests = requests ?? rule.requestsPerWindow
                }
            }
            return (images, requests)
        }
    }

    /// The upstream keys in use: `OPENAI_API_KEYS`, else the single key as `default` (also for the offline and
    /// test providers, so pauses and pacing have one lane per model).
    public var upstreamKeys: [UpstreamKey] {
        if !upstream.keys.isEmpty { return upstream.keys }
        return [UpstreamKey(label: "default", apiKey: openAI?.apiKey ?? "", organization: openAI?.organization, project: openAI?.project)]
    }
}

/// Parses `OPENAI_API_KEYS` and `OPENAI_RATE_LIMITS` (syntax in README.md); secrets never appear in a problem.
enum UpstreamSettingsParser {
    static let labelCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-_")

    static func isLabel(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 32 && text.unicodeScalars.allSatisfy(labelCharacters.contains)
    }

    /// `label:sk-…[;organization=org-…][;project=proj_…]`, entries separated by commas; a bare `sk-…` gets `keyN`.
    static func keys(_ raw: String, problems: inout [String]) -> [AtelierConfig.UpstreamKey] {
        var keys: [AtelierConfig.UpstreamKey] = []
        for (index, entry) in raw.split(separator: ",").enumerated() {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, !first.isEmpty else { continue }
            var key = AtelierConfig.UpstreamKey(label: "key\(index + 1)", apiKey: first)
            if let colon = first.firstIndex(of: ":") {
                key.label = String(first[..<colon])
                key.apiKey = String(first[first.index(after: colon)...])
            }
            guard isLabel(key.label), !key.apiKey.isEmpty else {
                problems.append("OPENAI_API_KEYS entry \(index + 1) must be label:secret with a label of a–z, 0–9, - or _ (at most 32)")
                continue
            }
            for option in parts.dropFirst() {
                let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
                switch (pair.first, pair.count) {
                case ("organization", 2): key.organization = pair[1]
                case ("project", 2): key.project = pair[1]
                default:
                    problems.append(
                        "OPENAI_API_KEYS key \(key.label): unknown option '\(pair.first ?? "")' (allowed: organization=, project=)")
                }
            }
            if keys.contains(where: { $0.label == key.label }) {
                problems.append("OPENAI_API_KEYS: the label \(key.label) is used twice")
            }
            keys.append(key)
        }
        return keys
    }

    /// `[key/]model:ipm=N[,rpm=N]` entries separated by `;` or spaces; model `*` = every model.
    static func rules(_ raw: String, keyLabels: [String], models: Set<String>, problems: inout [String]) -> [AtelierConfig.RateLimitRule] {
        var rules: [AtelierConfig.RateLimitRule] = []
        let entries = raw.split { $0 == ";" || $0 == " " || $0 == "\n" }
        for entry in entries {
            let text = String(entry)
            guard let colon = text.firstIndex(of: ":") else {
                problems.append("OPENAI_RATE_LIMITS entry '\(text)' must look like gpt-image-2:ipm=5,rpm=50 or label/gpt-image-2:ipm=5")
                continue
            }
            let target = text[..<colon].split(separator: "/", maxSplits: 1).map(String.init)
            var rule = AtelierConfig.RateLimitRule(model: target.last ?? "*")
            if target.count == 2 {
                rule.key = target[0]
                if !keyLabels.contains(target[0]) {
                    problems.append(
                        "OPENAI_RATE_LIMITS entry '\(text)' names key \(target[0]); the keys are \(keyLabels.joined(separator: ", "))")
                }
            }
            if rule.model != "*" && !models.contains(rule.model) {
                problems.append("OPENAI_RATE_LIMITS entry '\(text)' names model \(rule.model), which the registry does not list")
            }
            for setting in text[text.index(after: colon)...].split(separator: ",") {
                let pair = setting.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2, let value = Int(pair[1]), (1...1_000_000).contains(value) else {
                    problems.append("OPENAI_RATE_LIMITS entry '\(text)': '\(setting)' must be ipm=N or rpm=N with N in 1…1000000")
                    continue
                }
                switch pair[0] {
                case "ipm": rule.imagesPerWindow = value
                case "rpm": rule.requestsPerWindow = value
                default: problems.append("OPENAI_RATE_LIMITS entry '\(text)': unknown limit '\(pair[0])' (allowed: ipm, rpm)")
                }
            }
            rules.append(rule)
        }
        return rules
    }
}
