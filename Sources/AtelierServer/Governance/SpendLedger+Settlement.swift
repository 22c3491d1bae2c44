import Fluent
import Foundation
import SQLKit

extension SpendLedger {
    /// A cap that the exact cost of a job passed when it was settled (the money was already spent upstream).
    struct Overrun: Sendable, Equatable {
        var subject: String
        var period: String
        var capNano: Int64
        var amountNano: Int64
        /// `daily`, `monthly` or `global`, for the metric label.
        var cap: String
    }

    /// Replaces the reservation with the exact cost (the reservation itself when the cost is unknown). When the
    /// cost is above the reservation and a period then stands above the cap it was reserved under, each such cap
    /// is recorded in `spend_overruns` and returned (for the metric).
    @discardableResult
    func settle(jobID: UUID, cost: Int64?, now: Double) async throws -> [Overrun] {
        try await close(jobID: jobID, settle: true, amount: cost, now: now)
    }

    /// Gives the reservation back (failure before the upstream did any work, cancellation while queued). What
    /// earlier attempts of the job were charged stays spent (the row then ends `settled` at that amount).
    func release(jobID: UUID, now: Double) async throws {
        try await close(jobID: jobID, settle: false, amount: 0, now: now)
    }

    @discardableResult
    private func close(jobID: UUID, settle: Bool, amount: Int64?, now: Double) async throws -> [Overrun] {
        let current: SQLQueryString = settle ? amount.map { "\(bind: $0)" } ?? "reserved_nano" : "0"
        guard
            let row = try await sql.raw(
                """
                UPDATE spend_ledger SET
                    state = CASE WHEN \(bind: settle) OR charged_nano > 0 THEN 'settled' ELSE 'released' END,
                    settled_nano = CASE WHEN \(bind: settle) OR charged_nano > 0 THEN charged_nano + \(current) ELSE NULL END,
                    updated_at = \(bind: now)
                WHERE job_id = \(bind: jobID) AND state = 'reserved'
                RETURNING owner, day, month, reserved_nano, cap_day_nano, cap_month_nano, cap_global_nano
                """
            ).first()
        else { return [] }
        let reserved = try row.decode(column: "reserved_nano", as: Int64.self)
        let delta = (settle ? amount ?? reserved : 0) - reserved
        guard delta != 0 else { return [] }
        let owner = try row.decode(column: "owner", as: String.self)
        let day = try row.decode(column: "day", as: String.self)
        let month = try row.decode(column: "month", as: String.self)
        let totals = try await addToPeriods(delta, owner: owner, day: day, month: month)
        guard delta > 0 else { return [] }
        var overruns: [Overrun] = []
        let caps = SpendBudget.rows(owner: owner, budget: try SpendBudget(ledgerRow: row), day: day, month: month)
        for total in totals {
            let subject = try total.decode(column: "subject", as: String.self)
            let period = try total.decode(column: "period", as: String.self)
            let spent = try total.decode(column: "amount_nano", as: Int64.self)
            guard let rule = caps.first(where: { $0.subject == subject && $0.period == period }), let cap = rule.cap,
                spent > cap
            else { continue }
            overruns.append(Overrun(subject: subject, period: period, capNano: cap, amountNano: spent, cap: rule.label))
            try await sql.raw(
                """
                INSERT INTO spend_overruns (id, job_id, subject, period, cap_nano, amount_nano, created_at)
                VALUES (\(bind: UUID()), \(bind: jobID), \(bind: subject), \(bind: period), \(bind: cap), \(bind: spent), \(bind: now))
                """
            ).run()
        }
        return overruns
    }
}

extension SpendBudget {
    /// The caps stored on a `spend_ledger` row when its job was admitted.
    init(ledgerRow row: any SQLRow) throws {
        self.init(
            dailyCapNano: try row.decodeNil(column: "cap_day_nano") ? nil : row.decode(column: "cap_day_nano", as: Int64.self),
            monthlyCapNano: try row.decodeNil(column: "cap_month_nano") ? nil : row.decode(column: "cap_month_nano", as: Int64.self),
            globalDailyCapNano: try row.decodeNil(column: "cap_global_nano") ? nil : row.decode(column: "cap_global_nano", as: Int64.self))
    }
}
