import Fluent
import SQLKit

/// PostgreSQL only: `atelier_admit_job` counts its images-per-minute hits in subject order. `SELECT DISTINCT` left
/// the order to the plan, which may differ between sessions (a custom plan's hash, a cached generic plan's sort);
/// a 100-request burst of one caller deadlocked on those rows on the PostgreSQL lane (40P01 while inserting into
/// `rate_counters`' index, answered 503 `busy`). An explicit order makes every admission take them alike. The function is otherwise the one
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
