import Fluent
import Foundation
import SQLKit

/// Pacing limits an admin sets (`PUT /v1/admin/upstream/limits`), stored in `upstream_limits` and read by every
/// worker before each admission; at the same specificity they win over `OPENAI_RATE_LIMITS`.
extension UpstreamGate {
    /// This gate with the stored limits ahead of the environment's.
    func withStoredRules() async throws -> UpstreamGate {
        var gate = self
        gate.upstream.rules = try await storedRules() + upstream.rules
        return gate
    }

    func storedRules() async throws -> [AtelierConfig.RateLimitRule] {
        let rows = try await sql.raw(
            """
            SELECT key_label, model, images_per_window, requests_per_window FROM upstream_limits ORDER BY key_label, model
            """
        ).all()
        return try rows.map {
            try Self.rule($0, key: "key_label", model: "model", images: "images_per_window", requests: "requests_per_window")
        }
    }

    private static func rule(_ row: any SQLRow, key: String, model: String, images: String, requests: String) throws
        -> AtelierConfig.RateLimitRule
    {
        let label = try row.decode(column: key, as: String.self)
        return AtelierConfig.RateLimitRule(
            key: label == "*" ? nil : label, model: try row.decode(column: model, as: String.self),
            imagesPerWindow: try row.decode(column: images, as: Int?.self),
            requestsPerWindow: try row.decode(column: requests, as: Int?.self))
    }

    /// Two counts (`first`, `second`: scalar subqueries) and, given `gate`, that gate on `database` with the stored
    /// limits ahead of the environment's and its usable keys known, all read in one statement: the fast path's
    /// admission (`JobStartNow`) reads its owner's running jobs and the kill switch with them, where it took three.
    static func counts(
        _ first: SQLQueryString, _ second: SQLQueryString, withStateOf gate: UpstreamGate?, on database: any Database
    ) async throws -> (first: Int, second: Int, gate: UpstreamGate?) {
        var query: SQLQueryString = "SELECT 'c' AS kind, NULL AS a, NULL AS b, NULL AS c, \(first) AS m, \(second) AS n"
        if gate != nil {
            query = """
                \(query)
                UNION ALL SELECT 'k', label, status, fingerprint, NULL, NULL FROM upstream_keys
                UNION ALL SELECT 'l', key_label, model, NULL, images_per_window, requests_per_window FROM upstream_limits
                ORDER BY kind, a, b
                """
        }
        let rows = try await database.sql.raw(query).all()
        var counts: (Int, Int)?
        var keys: [any SQLRow] = []
        var rules: [AtelierConfig.RateLimitRule] = []
        for row in rows {
            switch try row.decode(column: "kind", as: String.self) {
            case "c": counts = (try row.decode(column: "m", as: Int.self), try row.decode(column: "n", as: Int.self))
            case "k": keys.append(row)
            case "l": rules.append(try rule(row, key: "a", model: "b", images: "m", requests: "n"))
            case let kind: throw StoredValueError(table: "(the gate's state)", column: "kind", rowID: nil, value: kind)
            }
        }
        // A SELECT without FROM always gives its one row.
        guard let counts else { throw StoredValueError(table: "(the gate's state)", column: "kind", rowID: nil, value: "no c") }
        guard var read = gate?.on(database) else { return (counts.0, counts.1, nil) }
        read.upstream.rules = rules + read.upstream.rules
        read.knownActiveKeys = try read.usableKeys(keys, label: "a", status: "b", fingerprint: "c")
        return (counts.0, counts.1, read)
    }

    /// Stores `rule` (replacing one for the same key and model); a rule with no limit removes it.
    func store(_ rule: AtelierConfig.RateLimitRule) async throws {
        let key = rule.key ?? "*"
        if rule.imagesPerWindow == nil && rule.requestsPerWindow == nil {
            try await sql.raw("DELETE FROM upstream_limits WHERE key_label = \(bind: key) AND model = \(bind: rule.model)").run()
            return
        }
        try await sql.raw(
            """
            INSERT INTO upstream_limits (key_label, model, images_per_window, requests_per_window)
            VALUES (\(bind: key), \(bind: rule.model), \(bind: rule.imagesPerWindow), \(bind: rule.requestsPerWindow))
            ON CONFLICT (key_label, model) DO UPDATE SET images_per_window = \(bind: rule.imagesPerWindow),
                requests_per_window = \(bind: rule.requestsPerWindow)
            """
        ).run()
    }
}
