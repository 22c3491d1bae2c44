import Foundation
import SQLKit
import Vapor

/// What the admin page and the metrics show of the upstream keys: labels, status, pauses, limits (never secrets).
struct UpstreamOverview: Content {
    struct Lane: Content {
        var model: String
        var reason: String?
        var waitSeconds: Double
        var imagesPerWindow: Int?
        var requestsPerWindow: Int?

        enum CodingKeys: String, CodingKey {
            case model, reason
            case waitSeconds = "wait_seconds", imagesPerWindow = "images_per_window", requestsPerWindow = "requests_per_window"
        }
    }

    struct Key: Content {
        var label: String
        /// `active`, `quota_exhausted` or `refused`.
        var status: String
        var message: String?
        var changedAt: Date?
        var lanes: [Lane]
        /// Jobs this key finished today (UTC) and what they cost.
        var jobsToday: Int
        var costTodayUSD: Decimal

        enum CodingKeys: String, CodingKey {
            case label, status, message, lanes
            case changedAt = "changed_at", jobsToday = "jobs_today", costTodayUSD = "cost_today_usd"
        }
    }

    /// A pacing rule: `key` null = every key, `model` "*" = every model; `source` `admin` (stored) or `environment`
    /// (absent in `PUT /v1/admin/upstream/limits`, which takes the same shape).
    struct Limit: Content {
        var key: String?
        var model: String
        var imagesPerWindow: Int?
        var requestsPerWindow: Int?
        var source: String?

        enum CodingKeys: String, CodingKey {
            case key, model, source
            case imagesPerWindow = "images_per_window", requestsPerWindow = "requests_per_window"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key, forKey: .key)
            try c.encode(model, forKey: .model)
            try c.encode(imagesPerWindow, forKey: .imagesPerWindow)
            try c.encode(requestsPerWindow, forKey: .requestsPerWindow)
            try c.encode(source, forKey: .source)
        }
    }

    var keys: [Key]
    var limits: [Limit]
    var windowSeconds: Double
    var maxWaitSeconds: Double

    enum CodingKeys: String, CodingKey {
        case keys, limits
        case windowSeconds = "window_seconds", maxWaitSeconds = "max_wait_seconds"
    }
}

extension UpstreamGate {
    func overview() async throws -> UpstreamOverview {
        let stored = try await storedRules()
        var upstream = self.upstream
        upstream.rules = stored + upstream.rules
        let now = clock.now()
        let sql = database.sql
        var status: [String: (String, String?, Double)] = [:]
        for row in try await sql.raw("SELECT label, status, message, fingerprint, changed_at FROM upstream_keys").all() {
            let label = try row.decode(column: "label", as: String.self)
            let recorded = try row.decode(column: "fingerprint", as: String?.self)
            if recorded != nil && recorded != fingerprints[label] { continue }  // a stop of a key since replaced
            status[label] = (
                try row.decode(column: "status", as: String.self), try row.decode(column: "message", as: String?.self),
                try row.decode(column: "changed_at", as: Double.self)
            )
        }
        var lanes: [String: [UpstreamOverview.Lane]] = [:]
        for row in try await sql.raw("SELECT key_label, model, paused_until, pause_reason FROM upstream_lanes ORDER BY model").all() {
            let key = try row.decode(column: "key_label", as: String.self)
            let model = try row.decode(column: "model", as: String.self)
            let wait = max(0, try row.decode(column: "paused_until", as: Double.self) - now)
            let limits = upstream.limits(key: key, model: model)
            lanes[key, default: []].append(
                UpstreamOverview.Lane(
                    model: model, reason: wait > 0 ? try row.decode(column: "pause_reason", as: String?.self) : nil,
                    waitSeconds: (wait * 10).rounded(.up) / 10, imagesPerWindow: limits.images, requestsPerWindow: limits.requests))
        }
        var today: [String: (Int, Int64)] = [:]
        for row in try await sql.raw(
            """
            SELECT upstream_key, COUNT(*) AS n, CAST(COALESCE(SUM(cost_nano), 0) AS BIGINT) AS cost FROM jobs
            WHERE finished_at >= \(bind: (now / 86_400).rounded(.down) * 86_400) AND upstream_key IS NOT NULL
            GROUP BY upstream_key
            """
        ).all() {
            today[try row.decode(column: "upstream_key", as: String.self)] = (
                try row.decode(column: "n", as: Int.self), try row.decode(column: "cost", as: Int64.self)
            )
        }
        let keys = keyLabels.map { label in
            let state = status[label]
            return UpstreamOverview.Key(
                label: label, status: state?.0 ?? KeyStatus.active.rawValue, message: state?.1,
                changedAt: state.map { Date(timeIntervalSince1970: $0.2) }, lanes: lanes[label] ?? [],
                jobsToday: today[label]?.0 ?? 0, costTodayUSD: CostNano.usd(today[label]?.1 ?? 0))
        }
        let limits = stored.map { ($0, "admin") } + self.upstream.rules.map { ($0, "environment") }
        return UpstreamOverview(
            keys: keys,
            limits: limits.map { rule, source in
                .init(
                    key: rule.key, model: rule.model, imagesPerWindow: rule.imagesPerWindow, requestsPerWindow: rule.requestsPerWindow,
                    source: source)
            },
            windowSeconds: upstream.windowSeconds, maxWaitSeconds: upstream.maxWaitSeconds)
    }
}
