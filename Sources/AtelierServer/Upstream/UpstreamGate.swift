import Fluent
import Foundation
import SQLKit

/// The upstream's rate limits as shared state in the database, so every worker of every instance sees one view:
/// a lane per (key, model) holds a pause (after a 429, or a limit an answer said was used up) and the token
/// buckets that pace starts (`OPENAI_RATE_LIMITS`); `upstream_keys` holds keys stopped for quota or a refused key.
/// Each admission is one conditional UPDATE of one lane row, atomic on SQLite and PostgreSQL alike.
struct UpstreamGate: Sendable {
    let database: any Database
    var upstream: AtelierConfig.Upstream
    let keyLabels: [String]
    /// Per label, a digest of the configured key (`UpstreamKeyFingerprint`): a stop recorded for another key under
    /// the same label (the admin replaced it and restarted) does not apply.
    var fingerprints: [String: String] = [:]
    let clock: AtelierClock
    /// The usable keys as a claim or a `snapshot` read them (nil: read them for each admission).
    var knownActiveKeys: [String]? = nil

    enum KeyStatus: String { case active, quotaExhausted = "quota_exhausted", refused }

    enum Admission: Equatable {
        /// Call the upstream with this key.
        case key(String)
        /// No key has room for this model; try again in about this many seconds.
        case wait(Double)
    }

    /// What a bucket allows when no limit is set (never runs out).
    static let unlimited = 1e12

    var sql: any SQLDatabase { database.sql }
    private var least: String { sql.dialect.name == "postgresql" ? "LEAST" : "MIN" }

    /// This gate with the stored limits and the usable keys read once, for the jobs of one claim: each admission
    /// then reads and takes only its lane (a key stopped meanwhile is found by the upstream's own answer).
    func snapshot() async throws -> UpstreamGate {
        var gate = try await withStoredRules()
        gate.knownActiveKeys = try await activeKeys()
        return gate
    }

    /// Keys that may be used: configured and not stopped.
    func activeKeys() async throws -> [String] {
        if let knownActiveKeys { return knownActiveKeys }
        let rows = try await sql.raw("SELECT label, status, fingerprint FROM upstream_keys").all()
        return try usableKeys(rows, label: "label", status: "status", fingerprint: "fingerprint")
    }

    /// The configured keys not stopped by a row of `upstream_keys` (columns named as given).
    func usableKeys(_ rows: [any SQLRow], label: String, status: String, fingerprint: String) throws -> [String] {
        var stopped: Set<String> = []
        for row in rows where try row.decode(column: status, as: String.self) != KeyStatus.active.rawValue {
            let key = try row.decode(column: label, as: String.self)
            let recorded = try row.decode(column: fingerprint, as: String?.self)
            if recorded == nil || recorded == fingerprints[key] { stopped.insert(key) }
        }
        return keyLabels.filter { !stopped.contains($0) }
    }

    /// What a claim must skip: every job when no key is usable, else the models paused on every usable key.
    func blocked() async throws -> (all: Bool, models: [String]) {
        let active = try await activeKeys()
        guard !active.isEmpty else { return (true, []) }
        let rows = try await sql.raw(
            """
            SELECT model FROM upstream_lanes WHERE paused_until > \(bind: clock.now()) AND key_label IN (\(binds: active))
            GROUP BY model HAVING COUNT(*) >= \(bind: active.count)
            """
        ).all()
        return (false, try rows.map { try $0.decode(column: "model", as: String.self) })
    }

    private func capacity(key: String, model: String) -> (images: Double, requests: Double) {
        let limits = upstream.limits(key: key, model: model)
        return (limits.images.map(Double.init) ?? Self.unlimited, limits.requests.map(Double.init) ?? Self.unlimited)
    }

    /// Takes room for one call of `images` images on the usable key with the most room left, or says how long
    /// until some key has room (and pauses the full lanes until then, so claims skip the model meanwhile).
    func admit(model: String, images: Int) async throws -> Admission {
        let active = try await activeKeys()
        guard !active.isEmpty else { return .wait(upstream.defaultPauseSeconds) }
        let now = clock.now()
        // One usable key with an existing lane that has room: the atomic take alone decides (no read first).
        if active.count == 1, try await take(active[0], model: model, images: images, now: now) { return .key(active[0]) }
        var lanes = try await self.lanes(model: model, keys: active, now: now)
        let missing = active.filter { key in !lanes.contains { $0.key == key } }
        for key in missing {
            let cap = capacity(key: key, model: model)
            try await sql.raw(
                """
                INSERT INTO upstream_lanes (key_label, model, paused_until, image_tokens, request_tokens, refilled_at)
                VALUES (\(bind: key), \(bind: model), 0, \(bind: cap.images), \(bind: cap.requests), \(bind: now))
                ON CONFLICT (key_label, model) DO NOTHING
                """
            ).run()
        }
        if !missing.isEmpty { lanes = try await self.lanes(model: model, keys: active, now: now) }
        let ordered = lanes.sorted { a, b in
            a.imageRoom != b.imageRoom ? a.imageRoom > b.imageRoom : active.firstIndex(of: a.key)! < active.firstIndex(of: b.key)!
        }
        for lane in ordered where lane.wait(forImages: images, now: now) == 0 {
            if try await take(lane.key, model: model, images: images, now: now) { return .key(lane.key) }
        }
        // No room anywhere (or another worker took it first): pause each full lane until it has room again.
        let fresh = try await self.lanes(model: model, keys: active, now: now)
        var soonest = Double.infinity
        for lane in fresh {
            let wait = max(lane.wait(forImages: images, now: now), 0.05)
            soonest = min(soonest, wait)
            try await sql.raw(
                """
                UPDATE upstream_lanes SET paused_until = \(bind: now + wait), pause_reason = 'pacing'
                WHERE key_label = \(bind: lane.key) AND model = \(bind: model) AND paused_until < \(bind: now + wait)
                """
            ).run()
        }
        return .wait(soonest.isFinite ? soonest : upstream.defaultPauseSeconds)
    }

    /// One atomic UPDATE: refill the buckets for the time passed, then take `images` images and one request if
    /// both have that much and the lane is not paused. False when another worker got there first.
    private func take(_ key: String, model: String, images: Int, now: Double) async throws -> Bool {
        let cap = capacity(key: key, model: model)
        let window = upstream.windowSeconds
        let need = min(Double(images), cap.images)
        let imageLevel: SQLQueryString =
            "\(unsafeRaw: least)(\(bind: cap.images), image_tokens + (\(bind: now) - refilled_at) * \(bind: cap.images / window))"
        let requestLevel: SQLQueryString =
            "\(unsafeRaw: least)(\(bind: cap.requests), request_tokens + (\(bind: now) - refilled_at) * \(bind: cap.requests / window))"
        let rows = try await sql.raw(
            """
            UPDATE upstream_lanes SET image_tokens = \(imageLevel) - \(bind: need), request_tokens = \(requestLevel) - 1,
                refilled_at = \(bind: now), pause_reason = NULL
            WHERE key_label = \(bind: key) AND model = \(bind: model) AND paused_until <= \(bind: now)
                AND \(imageLevel) >= \(bind: need) AND \(requestLevel) >= 1
            RETURNING key_label
            """
        ).all()
        return rows.count == 1
    }

    /// A lane as read now, with its buckets refilled for the time passed.
    struct Lane {
        var key: String
        var pausedUntil: Double
        var reason: String?
        var imageRoom: Double
        var requestRoom: Double
        var capacity: (images: Double, requests: Double)
        var window: Double

        /// Seconds until a call of `images` images could start (0 = now).
        func wait(forImages images: Int, now: Double) -> Double {
            let need = min(Double(images), capacity.images)
            let forImages = imageRoom >= need ? 0 : (need - imageRoom) * window / capacity.images
            let forRequests = requestRoom >= 1 ? 0 : (1 - requestRoom) * window / capacity.requests
            return max(pausedUntil - now, forImages, forRequests, 0)
        }
    }

    func lanes(model: String, keys: [String], now: Double) async throws -> [Lane] {
        let rows = try await sql.raw(
            """
            SELECT key_label, paused_until, pause_reason, image_tokens, request_tokens, refilled_at FROM upstream_lanes
            WHERE model = \(bind: model) AND key_label IN (\(binds: keys))
            """
        ).all()
        return try rows.map { row in
            let key = try row.decode(column: "key_label", as: String.self)
            let cap = capacity(key: key, model: model)
            let elapsed = max(0, now - (try row.decode(column: "refilled_at", as: Double.self)))
            return Lane(
                key: key, pausedUntil: try row.decode(column: "paused_until", as: Double.self),
                reason: try row.decode(column: "pause_reason", as: String?.self),
                imageRoom: min(
                    cap.images, try row.decode(column: "image_tokens", as: Double.self) + elapsed * cap.images / upstream.windowSeconds),
                requestRoom: min(
                    cap.requests,
                    try row.decode(column: "request_tokens", as: Double.self) + elapsed * cap.requests / upstream.windowSeconds),
                capacity: cap, window: upstream.windowSeconds)
        }
    }

    /// The upstream said no room (429) or that a limit is used up: nobody starts on this key and model for `seconds`.
    func pause(key: String, model: String, seconds: Double, reason: String) async throws {
        let now = clock.now()
        let cap = capacity(key: key, model: model)
        try await sql.raw(
            """
            INSERT INTO upstream_lanes (key_label, model, paused_until, pause_reason, image_tokens, request_tokens, refilled_at)
            VALUES (\(bind: key), \(bind: model), \(bind: now + seconds), \(bind: reason), 0, \(bind: cap.requests), \(bind: now))
            ON CONFLICT (key_label, model) DO UPDATE SET paused_until = \(bind: now + seconds), pause_reason = \(bind: reason),
                image_tokens = 0, refilled_at = \(bind: now)
            """
        ).run()
    }

    /// Stops (quota, refused key) or resumes a key for every model.
    func setStatus(_ status: KeyStatus, key: String, message: String?) async throws {
        try await sql.raw(
            """
            INSERT INTO upstream_keys (label, status, message, fingerprint, changed_at)
            VALUES (\(bind: key), \(bind: status.rawValue), \(bind: message), \(bind: fingerprints[key]), \(bind: clock.now()))
            ON CONFLICT (label) DO UPDATE SET status = \(bind: status.rawValue), message = \(bind: message),
                fingerprint = \(bind: fingerprints[key]), changed_at = \(bind: clock.now())
            """
        ).run()
    }
}
