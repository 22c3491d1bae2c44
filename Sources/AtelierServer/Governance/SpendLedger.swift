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

    var sql: any SQLDatabase { database.sql }

    func reserve(jobID: UUID, owner: String, amount: Int64?, budget: SpendBudget, now: Double) async throws {
        let amount = try Self.amountToReserve(amount, budget: budget)
        let (day, month) = SpendBudget.periods(at: now)
        // A retried job keeps what its earlier runs cost (`settled_nano`) as already charged.
        try await sql.raw(
            """
            INSERT INTO spend_ledger (job_id, owner, day, month, reserved_nano, settled_nano, state, updated_at,
                charged_nano, cap_day_nano, cap_month_nano, cap_global_nano)
            VALUES (\(bind: jobID), \(bind: owner), \(bind: day), \(bind: month), \(bind: amount), NULL, 'reserved', \(bind: now),
                \(bind: Int64(0)), \(bind: budget.dailyCapNano), \(bind: budget.monthlyCapNano), \(bind: budget.globalDailyCapNano))
            ON CONFLICT (job_id) DO UPDATE SET owner = excluded.owner, day = excluded.day, month = excluded.month,
                reserved_nano = excluded.reserved_nano, charged_nano = COALESCE(spend_ledger.settled_nano, 0),
                settled_nano = NULL, state = 'reserved', updated_at = excluded.updated_at,
                cap_day_nano = excluded.cap_day_nano, cap_month_nano = excluded.cap_month_nano,
                cap_global_nano = excluded.cap_global_nano
            """
        ).run()
        try await hold(amount, owner: owner, budget: budget, now: now)
    }

    /// What a job's reservation holds: its estimate, or nothing for an unpriced model, which a cap refuses.
    static func amountToReserve(_ amount: Int64?, budget: SpendBudget) throws -> Int64 {
        if amount == nil && budget.hasCap {
            throw APIError.invalid(
                "model", "This model has no price in the registry, so your spending cap cannot be enforced; choose a priced model.",
                code: "unpriced_model")
        }
        return amount ?? 0
    }

    /// Adds `amount` to the owner's day and month and to everyone's day, each only while its cap holds; throws
    /// `spend_cap_reached` (and the caller's transaction rolls back) when one would be passed. One upsert for the
    /// three rows: a new row starts at `amount` (refused here when that alone passes its cap), an existing one is
    /// added to only while its own cap holds (the `WHERE` of `DO UPDATE`, re-checked on the locked row on PostgreSQL);
    /// a row it did not change is not returned.
    func hold(_ amount: Int64, owner: String, budget: SpendBudget, now: Double) async throws {
        let (day, month) = SpendBudget.periods(at: now)
        let caps = SpendBudget.rows(owner: owner, budget: budget, day: day, month: month)
        let values: [SQLQueryString] = caps.map { "(\(bind: $0.subject), \(bind: $0.period), \(bind: amount))" }
        let conditions: [SQLQueryString] = caps.map { row in
            var condition: SQLQueryString = "(spend_periods.subject = \(bind: row.subject) AND spend_periods.period = \(bind: row.period)"
            if let cap = row.cap { condition = condition + " AND spend_periods.amount_nano + \(bind: amount) <= \(bind: cap)" }
            return condition + ")"
        }
        let updated = try await sql.raw(
            """
            INSERT INTO spend_periods (subject, period, amount_nano) VALUES \(SQLList(values))
            ON CONFLICT (subject, period) DO UPDATE SET amount_nano = spend_periods.amount_nano + excluded.amount_nano
            WHERE \(SQLList(conditions, separator: SQLRaw(" OR ")))
            RETURNING subject, period
            """
        ).all().map { "\(try $0.decode(column: "subject", as: String.self))|\(try $0.decode(column: "period", as: String.self))" }
        if let refused = caps.first(where: { row in
            row.cap.map { amount > $0 || !updated.contains("\(row.subject)|\(row.period)") } ?? false
        }), let cap = refused.cap {
            throw Self.capReached(refused.name, cap: cap, amount: amount, now: now, daily: refused.period == day)
        }
    }

    /// The attempt that just ended reached the upstream and cost money (`cost`, or the reservation when nil):
    /// it becomes a charge, and the next attempt reserves the estimate again against the caps the job was
    /// admitted under (today's periods). Throws `spend_cap_reached` when the next attempt would pass a cap; the
    /// caller's transaction then rolls back and the job fails instead of running again.
    func chargeAttemptAndReserveNext(jobID: UUID, cost: Int64?, now: Double) async throws {
        guard
            let row = try await sql.raw(
                """
                SELECT owner, day, month, reserved_nano, cap_day_nano, cap_month_nano, cap_global_nano FROM spend_ledger
                WHERE job_id = \(bind: jobID) AND state = 'reserved'
                """
            ).first()
        else { return }
        let owner = try row.decode(column: "owner", as: String.self)
        let reserved = try row.decode(column: "reserved_nano", as: Int64.self)
        let charged = cost ?? reserved
        if charged != reserved {
            try await addToPeriods(
                charged - reserved, owner: owner, day: try row.decode(column: "day", as: String.self),
                month: try row.decode(column: "month", as: String.self))
        }
        try await hold(reserved, owner: owner, budget: try SpendBudget(ledgerRow: row), now: now)
        let (day, month) = SpendBudget.periods(at: now)
        try await sql.raw(
            """
            UPDATE spend_ledger SET charged_nano = charged_nano + \(bind: charged), day = \(bind: day), month = \(bind: month),
                updated_at = \(bind: now)
            WHERE job_id = \(bind: jobID) AND state = 'reserved'
            """
        ).run()
    }

    /// Adds `delta` to the owner's day and month and to everyone's day; returns the rows as they are after.
    @discardableResult
    func addToPeriods(_ delta: Int64, owner: String, day: String, month: String) async throws -> [any SQLRow] {
        try await sql.raw(
            """
            UPDATE spend_periods SET amount_nano = amount_nano + \(bind: delta)
            WHERE (subject = \(bind: owner) AND (period = \(bind: day) OR period = \(bind: month)))
               OR (subject = \(bind: "*") AND period = \(bind: day))
            RETURNING subject, period, amount_nano
            """
        ).all()
    }

    static func capReached(_ name: String, cap: Int64, amount: Int64, now: Double, daily: Bool) -> APIError {
        var error = APIError(
            status: .tooManyRequests, code: "spend_cap_reached",
            message: "This job (estimated $\(CostNano.usd(amount))) would pass \(name) of $\(CostNano.usd(cap)); "
                + (daily ? "it resets at midnight UTC." : "it resets at the start of next month."))
        if daily { error.headers.replaceOrAdd(name: .retryAfter, value: String(SpendBudget.secondsUntilNextDay(from: now))) }
        return error
    }
}
