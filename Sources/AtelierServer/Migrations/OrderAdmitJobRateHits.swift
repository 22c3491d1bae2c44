import Fluent
import SQLKit

/// PostgreSQL only: `atelier_admit_job` counts its images-per-minute hits in subject order. `SELECT DISTINCT` left
/// the order to the plan, and a session's cached generic plan may differ from another's custom one: two admissions
/// of one caller then took the owner's and the key's `rate_counters` rows in opposite orders and deadlocked (40P01,
/// 503 `busy` in a 100-request burst on the PostgreSQL lane). The function is otherwise the one
/// `CreateAdmitJobFunction` installed.
struct OrderAdmitJobRateHits: AsyncMigration {
    static let unordered = "SELECT DISTINCT s, p_rate_window, p_rate_cost FROM unnest(p_rate_subjects) AS s"
    static let ordered =
        "SELECT d.s, p_rate_window, p_rate_cost FROM (SELECT DISTINCT s FROM unnest(p_rate_subjects) AS s) AS d ORDER BY d.s"

    static var function: String {
        CreateAdmitJobFunction.function.replacingOccurrences(of: unordered, with: ordered)
    }

    func prepare(on database: any Database) async throws {
        try await runOnPostgreSQLOnly(Self.function, on: database)
    }

    func revert(on database: any Database) async throws {
        try await runOnPostgreSQLOnly(CreateAdmitJobFunction.function, on: database)
    }
}
