import Foundation
import SQLKit

extension SpendLedger {
    /// A batch's jobs, reserved as one amount: one ledger row per job (so each settles or releases on its own,
    /// as any job does) but the caps checked once, for the total. Call `holdBatch` last in the transaction.
    func recordBatchReservations(_ jobs: [(id: UUID, amount: Int64)], owner: String, budget: SpendBudget, now: Double) async throws {
        guard !jobs.isEmpty else { return }
        let (day, month) = SpendBudget.periods(at: now)
        if sql.dialect.name == "postgresql" {
            // One array bind per varying column instead of one bind per cell (see `BatchJobRows` in JobLifecycle.swift).
            try await sql.raw(
                """
                INSERT INTO spend_ledger (job_id, owner, day, month, reserved_nano, settled_nano, state, updated_at,
                    charged_nano, cap_day_nano, cap_month_nano, cap_global_nano)
                SELECT job_id, \(bind: owner), \(bind: day), \(bind: month), reserved_nano, CAST(NULL AS BIGINT), 'reserved',
                    \(bind: now), \(bind: Int64(0)), CAST(\(bind: budget.dailyCapNano) AS BIGINT),
                    CAST(\(bind: budget.monthlyCapNano) AS BIGINT), CAST(\(bind: budget.globalDailyCapNano) AS BIGINT)
                FROM UNNEST(\(bind: jobs.map(\.id)), \(bind: jobs.map(\.amount))) AS t(job_id, reserved_nano)
                """
            ).run()
            return
        }
        let rows: [SQLQueryString] = jobs.map { job in
            """
            (\(bind: job.id), \(bind: owner), \(bind: day), \(bind: month), \(bind: job.amount), NULL, 'reserved', \(bind: now),
             \(bind: Int64(0)), \(bind: budget.dailyCapNano), \(bind: budget.monthlyCapNano), \(bind: budget.globalDailyCapNano))
            """
        }
        try await sql.raw(
            """
            INSERT INTO spend_ledger (job_id, owner, day, month, reserved_nano, settled_nano, state, updated_at,
                charged_nano, cap_day_nano, cap_month_nano, cap_global_nano)
            VALUES \(SQLList(rows))
            """
        ).run()
    }

    /// Adds a batch's estimated total to the caps' periods in one step; throws `spend_cap_reached` (and the
    /// transaction rolls back, creating nothing) when it would pass one.
    func holdBatch(total: Int64, owner: String, budget: SpendBudget, now: Double) async throws {
        try await hold(total, owner: owner, budget: budget, now: now)
    }
}
