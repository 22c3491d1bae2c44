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
        return try rows.map { row in
            let key = try row.decode(column: "key_label", as: String.self)
            return AtelierConfig.RateLimitRule(
                key: key == "*" ? nil : key, model: try row.decode(column: "model", as: String.self),
                imagesPerWindow: try row.decode(column: "images_per_window", as: Int?.self),
                requestsPerWindow: try row.decode(column: "requests_per_window", as: Int?.self))
        }
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
