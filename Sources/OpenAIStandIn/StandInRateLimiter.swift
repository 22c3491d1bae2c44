import Foundation
import Vapor

/// Images per window per API key, as OpenAI meters them: a bucket of `limit` images that refills continuously
/// (`limit` per `window` seconds). A call for more images than are left gets OpenAI's 429 `rate_limit_exceeded`
/// with `retry-after`, `retry-after-ms` and `x-ratelimit-*-images`; every answer carries the `x-ratelimit-*-images`
/// headers. With `window` 6 s and `limit` 12 it behaves like 12 images a minute, ten times faster (for tests).
/// It also holds the "out of quota" switch (every key, or some keys).
actor StandInRateLimiter {
    struct Bucket {
        var tokens: Double
        var at: ContinuousClock.Instant
    }

    struct KeyStats {
        var images = 0
        var requests = 0
        var rateLimited = 0
        var firstAt: Double?
        var lastAt: Double?
    }

    let limit: Int?
    let window: Double
    private let started = ContinuousClock.now
    private var buckets: [String: Bucket] = [:]
    private var stats: [String: KeyStats] = [:]
    private var quotaExhausted = false
    private var exhaustedKeys: Set<String> = []
    private var quotaRefused = 0

    init(limit: Int?, window: Double, quotaExhausted: Bool) {
        self.limit = limit
        self.window = window
        self.quotaExhausted = quotaExhausted
    }

    private func seconds(since instant: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - instant
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func setQuota(exhausted: Bool, key: String?) {
        if let key {
            if exhausted { exhaustedKeys.insert(key) } else { exhaustedKeys.remove(key) }
        } else {
            quotaExhausted = exhausted
            if !exhausted { exhaustedKeys.removeAll() }
        }
    }

    func isOutOfQuota(key: String) -> Bool {
        let out = quotaExhausted || exhaustedKeys.contains(key)
        if out { quotaRefused += 1 }
        return out
    }

    /// Takes `images` from `key`'s bucket: the headers to send, or the 429 to answer with.
    func take(key: String, images: Int, model: String) -> Result<[(String, String)], APIError> {
        let name = StandInService.redact(key)
        guard let limit else {
            record(name, images: images)
            return .success([])
        }
        let capacity = Double(limit)
        let rate = capacity / window
        var bucket = buckets[key] ?? Bucket(tokens: capacity, at: .now)
        bucket.tokens = min(capacity, bucket.tokens + seconds(since: bucket.at) * rate)
        bucket.at = .now
        let need = Double(images)
        guard bucket.tokens >= need else {
            buckets[key] = bucket
            stats[name, default: KeyStats()].rateLimited += 1
            let wait = (need - bucket.tokens) / rate
            let headers =
                Self.headers(limit: limit, tokens: bucket.tokens, full: (capacity - bucket.tokens) / rate) + [
                    ("retry-after", String(max(1, Int(wait.rounded(.up))))), ("retry-after-ms", String(Int((wait * 1000).rounded(.up)))),
                ]
            return .failure(
                APIError(
                    status: .tooManyRequests,
                    message:
                        "Rate limit reached for \(model) in organization org-standin on images per min (IPM): Limit \(limit), Used \(limit - Int(bucket.tokens)), Requested \(images). Please try again in \(Self.goDuration(wait)). Visit https://platform.openai.com/account/rate-limits to learn more.",
                    type: "requests", code: "rate_limit_exceeded", headers: headers))
        }
        bucket.tokens -= need
        buckets[key] = bucket
        record(name, images: images)
        return .success(Self.headers(limit: limit, tokens: bucket.tokens, full: (capacity - bucket.tokens) / rate))
    }

    private func record(_ name: String, images: Int) {
        let now = seconds(since: started)
        var entry = stats[name] ?? KeyStats()
        entry.images += images
        entry.requests += 1
        entry.firstAt = entry.firstAt ?? now
        entry.lastAt = now
        stats[name] = entry
    }

    /// `x-ratelimit-*-images`: the limit, what is left, and the time until the bucket is full again.
    static func headers(limit: Int, tokens: Double, full: Double) -> [(String, String)] {
        [
            ("x-ratelimit-limit-images", String(limit)), ("x-ratelimit-remaining-images", String(max(0, Int(tokens)))),
            ("x-ratelimit-reset-images", goDuration(full)),
        ]
    }

    /// Go-style durations as OpenAI writes them: "6m0s", "1.2s", "20ms".
    static func goDuration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded(.up)))ms" }
        if seconds < 60 { return String(format: "%.3gs", seconds) }
        let whole = Int(seconds.rounded(.up))
        return "\(whole / 60)m\(whole % 60)s"
    }

    /// `GET /_standin/limits`: per redacted key, images and requests served, 429s, first and last served time
    /// (seconds since the stand-in started).
    func json() -> Data {
        var keys: [String: Any] = [:]
        for (name, s) in stats {
            keys[name] = [
                "images": s.images, "requests": s.requests, "rate_limited": s.rateLimited,
                "first_at": s.firstAt as Any? ?? NSNull(), "last_at": s.lastAt as Any? ?? NSNull(),
            ]
        }
        let object: [String: Any] = [
            "images_per_window": limit as Any? ?? NSNull(), "window_seconds": window, "keys": keys,
            "rate_limited": stats.values.reduce(0) { $0 + $1.rateLimited }, "quota_refused": quotaRefused,
        ]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
