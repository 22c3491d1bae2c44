import AtelierCore
import Foundation
import NIOHTTP1

/// Turns upstream HTTP errors into `ProviderError`.
public enum OpenAIErrorMapper {
    static let quotaCodes: Set<String> = [
        "insufficient_quota", "billing_hard_limit_reached", "credit_balance_exhausted",
    ]

    static func isQuota(_ value: String?) -> Bool {
        guard let value else { return false }
        return quotaCodes.contains(value) || value.hasSuffix("_spend_limit_exceeded")
            || value.hasSuffix("_usage_limit_exceeded")
    }

    /// Maps an HTTP error status (or `nil` for an in-stream error event) plus the decoded error object.
    static func map(status: Int?, error: OpenAIWire.ErrorDetail, headers: HTTPHeaders, now: Date = Date()) -> ProviderError {
        let message = error.message ?? "no message"
        if error.code == "moderation_blocked" {
            return .moderationBlocked(message: message)
        }
        if isQuota(error.code) || isQuota(error.type) {
            return .insufficientQuota(message: message, code: error.code ?? error.type)
        }
        guard let status else {
            // In-stream error frame: classify by type/code.
            switch error.type {
            case "invalid_request_error": return .invalidRequest(message: message, param: error.param, code: error.code)
            case "rate_limit_error", "requests", "tokens":
                return .rateLimited(message: message, retryAfter: RetryAfter.seconds(inMessage: message))
            default: return .serverError(status: 500, message: message)
            }
        }
        switch status {
        case 401: return .unauthenticated(message: message)
        case 403: return .permissionDenied(message: message, code: error.code)
        case 404: return .modelNotFound(message: message)
        case 408: return .timeout
        case 429:
            return .rateLimited(
                message: message, retryAfter: RetryAfter.seconds(from: headers, now: now) ?? RetryAfter.seconds(inMessage: message))
        case 500...: return .serverError(status: status, message: message)
        default: return .invalidRequest(message: message, param: error.param, code: error.code)
        }
    }

    /// Maps an error response body (which may not be JSON at all).
    static func map(status: Int, body: Data, headers: HTTPHeaders) -> ProviderError {
        if let envelope = try? JSONDecoder().decode(OpenAIWire.ErrorEnvelope.self, from: body), let error = envelope.error {
            return map(status: status, error: error, headers: headers)
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        return map(status: status, error: OpenAIWire.ErrorDetail(message: text.isEmpty ? reason : text), headers: headers)
    }
}

/// Reads how long to wait from the headers OpenAI (and its SDK) use.
public enum RetryAfter {
    /// `retry-after-ms`, then `Retry-After` (seconds or HTTP date), then the `x-ratelimit-reset-*` durations
    /// (preferring a dimension whose remaining count is 0, else the longest).
    public static func seconds(from headers: HTTPHeaders, now: Date = Date()) -> Double? {
        if let text = headers.first(name: "retry-after-ms"), let ms = Double(text.trimmingCharacters(in: .whitespaces)),
            ms >= 0
        {
            return ms / 1000
        }
        if let text = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if let seconds = Double(text), seconds >= 0 { return seconds }
            if let date = httpDate(text) { return max(0, date.timeIntervalSince(now)) }
        }
        var exhausted: [Double] = []
        var all: [Double] = []
        for dimension in ["requests", "tokens", "images", "project-tokens"] {
            guard let text = headers.first(name: "x-ratelimit-reset-\(dimension)"), let seconds = goDuration(text) else {
                continue
            }
            all.append(seconds)
            if let remaining = headers.first(name: "x-ratelimit-remaining-\(dimension)"), Int(remaining) == 0 {
                exhausted.append(seconds)
            }
        }
        return exhausted.max() ?? all.max()
    }

    /// When a successful answer says a limit is used up (`x-ratelimit-remaining-*` is 0): the seconds until that
    /// dimension resets, so the next call waits instead of earning a 429.
    public static func exhaustedReset(from headers: HTTPHeaders) -> Double? {
        var resets: [Double] = []
        for dimension in ["requests", "tokens", "images", "project-tokens"] {
            guard let remaining = headers.first(name: "x-ratelimit-remaining-\(dimension)"), Int(remaining) == 0,
                let text = headers.first(name: "x-ratelimit-reset-\(dimension)"), let seconds = goDuration(text)
            else { continue }
            resets.append(seconds)
        }
        return resets.max()
    }

    /// The wait OpenAI writes into a 429's message ("… Please try again in 1.2s." / "in 20ms." / "in 6m0s.").
    public static func seconds(inMessage message: String) -> Double? {
        guard let range = message.range(of: "try again in ", options: .caseInsensitive) else { return nil }
        let rest = message[range.upperBound...]
        let token = rest.prefix { !$0.isWhitespace && $0 != "," }
        var text = String(token)
        while text.hasSuffix(".") { text.removeLast() }
        return goDuration(text)
    }

    /// Parses Go-style durations: "6m0s", "1s", "250ms", "1h2m3.5s", "20us", "0.5s"; a bare number is seconds.
    public static func goDuration(_ text: String) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if let plain = Double(text) { return plain >= 0 ? plain : nil }
        var total = 0.0
        var scalars = Array(text.unicodeScalars)[...]
        while !scalars.isEmpty {
            var number = ""
            while let c = scalars.first, c == "." || ("0"..."9").contains(c) {
                number.unicodeScalars.append(c)
                scalars.removeFirst()
            }
            var unit = ""
            while let c = scalars.first, !(c == "." || ("0"..."9").contains(c)) {
                unit.unicodeScalars.append(c)
                scalars.removeFirst()
            }
            guard let value = Double(number) else { return nil }
            let factor: Double
            switch unit {
            case "h": factor = 3600
            case "m": factor = 60
            case "s": factor = 1
            case "ms": factor = 0.001
            case "us", "µs", "μs": factor = 0.000_001
            case "ns": factor = 0.000_000_001
            default: return nil
            }
            total += value * factor
        }
        return total
    }

    static func httpDate(_ text: String) -> Date? {
        let formats = ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"]
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
