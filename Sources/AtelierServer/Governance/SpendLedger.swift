import Fluent
import Foundation
import SQLKit

/// Reserves a job's estimated cost against the caps before it is queued, settles it with the exact cost when
/// the job succeeds and releases it when the job fails or is canceled. Totals live in `spend_periods`
/// (owner × day, owner × month, `*` × day); `spend_ledger` keeps one row per job.
///
/// The caps are one conditional `UPDATE … SET amount = amount + x WHERE (row AND amount + x <= cap) OR …` inside
/// the caller's transaction; a row whose cap would be passed is not updated and the transaction is rolled back.
/// On PostgreSQL the row locks make concurrent reservations queue and re-check the condition on the committed
/// value; on SQLite writes are serialized. Either way a cap cannot be passed however many requests arrive at once.
struct SpendLedger: Sendable {
    /// Run inside the transaction that writes the job: SQLite serializes it as a whole, and on PostgreSQL the
    /// spend rows stay locked only from these updates to the commit.
    let database: any Database

    private var sql: any SQLDatabase { database as! any SQLDatabase }

    func reserve(jobID: UUID, owner: String, amount: Int64?, budget: SpendBudget, now: Double) async throws {
        if amount == nil && budget.hasCap {
            throw APIError.invalid(
                "model", "This model has no price in the registry, so your spending cap cannot be enforced; choose a priced model.",
                code: "unpriced_model")
        }
        let amount = amount ?? 0
        let (day, month) = SpendBudget.periods(at: now)
        try await sql.raw("""
            INSERT INTO spend_periods (subject, period, amount_nano)
            VALUES (\(bind: owner), \(bind: day), \(bind: Int64(0))), (\(bind: owner), \(bind: month), \(bind: Int64(0))),
                   (\(bind: "*"), \(bind: day), \(bind: Int64(0)))
            ON CONFLICT (subject, period) DO NOTHING
            """).run()
        try await sql.raw("""
            INSERT INTO spend_ledger (job_id, owner, day, month, reserved_nano, settled_nano, state, updated_at)
            VALUES (\(bind: jobID), \(bind: owner), \(bind: day), \(bind: month), \(bind: amount), NULL, 'reserved', \(bind: now))
            ON CONFLICT (job_id) DO UPDATE SET owner = excluded.owner, day = excluded.day, month = excluded.month,
                reserved_nano = excluded.reserved_nano, settled_nano = NULL, state = 'reserved', updated_at = excluded.updated_at
            """).run()
        let caps: [(subject: String, period: String, cap: Int64?, name: String)] = [
            (owner, day, budget.dailyCapNano, "your daily spending cap"),
            (owner, month, budget.monthlyCapNano, "your monthly spending cap"),
            ("*", day, budget.globalDailyCapNano, "the server's daily spending cap"),
        ]
        // One statement for the three rows: each row is added to only while its own cap holds.
        let conditions: [SQLQueryString] = caps.map { row in
            var condition: SQLQueryString = "(subject = \(bind: row.subject) AND period = \(bind: row.period)"
            if let cap = row.cap { condition = condition + " AND amount_nano + \(bind: amount) <= \(bind: cap)" }
            return condition + ")"
        }
        let updated = try await sql.raw("""
            UPDATE spend_periods SET amount_nano = amount_nano + \(bind: amount)
            WHERE \(SQLList(conditions, separator: SQLRaw(" OR ")))
            RETURNING subject, period
            """).all().map { "\(try $0.decode(column: "subject", as: String.self))|\(try $0.decode(column: "period", as: String.self))" }
        if let refused = caps.first(where: { !updated.contains("\($0.subject)|\($0.period)") }), let cap = refused.cap {
            throw Self.capReached(refused.name, cap: cap, amount: amount, now: now, daily: refused.period == day)
        }
    }

    /// Replaces the reservation with the exact cost (the reservation itself when the cost is unknown).
    func settle(jobID: UUID, cost: Int64?, now: Double) async throws {
        try await close(jobID: jobID, state: "settled", amount: cost, now: now)
    }

    /// Gives the reservation back (failure, cancellation).
    func release(jobID: UUID, now: Double) async throws {
        try await close(jobID: jobID, state: "released", amount: 0, now: now)
    }

    private func close(jobID: UUID, state: String, amount: Int64?, now: Double) async throws {
        let settled: SQLQueryString = state != "settled" ? "NULL" : amount.map { "\(bind: $0)" } ?? "reserved_nano"
        guard let row = try await sql.raw("""
            UPDATE spend_ledger SET state = \(bind: state), settled_nano = \(settled), updated_at = \(bind: now)
            WHERE job_id = \(bind: jobID) AND state = 'reserved'
            RETURNING owner, day, month, reserved_nano
            """).first()
        else { return }
        let reserved = try row.decode(column: "reserved_nano", as: Int64.self)
        let delta = (amount ?? reserved) - reserved
        guard delta != 0 else { return }
        let owner = try row.decode(column: "owner", as: String.self)
        let day = try row.decode(column: "day", as: String.self)
        let month = try row.decode(column: "month", as: String.self)
        try await sql.raw("""
            UPDATE spend_periods SET amount_nano = amount_nano + \(bind: delta)
            WHERE (subject = \(bind: owner) AND (period = \(bind: day) OR period = \(bind: month)))
               OR (subject = \(bind: "*") AND period = \(bind: day))
            """).run()
    }

    private static func capReached(_ name: String, cap: Int64, amount: Int64, now: Double, daily: Bool) -> APIError {
        var error = APIError(
            status: .tooManyRequests, code: "spend_cap_reached",
            message: "This job (estimated $\(CostNano.usd(amount))) would pass \(name) of $\(CostNano.usd(cap)); "
                + (daily ? "it resets at midnight UTC." : "it resets at the start of next month."))
        if daily { error.headers.replaceOrAdd(name: .retryAfter, value: String(SpendBudget.secondsUntilNextDay(from: now))) }
        return error
    }
}
