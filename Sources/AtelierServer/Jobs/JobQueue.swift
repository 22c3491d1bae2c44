import AtelierCore
import Fluent
import Foundation
import SQLKit

/// The jobs table used as a queue: which job a claim takes (fair between owners) and back-off. The claim's row
/// write, leases and their recovery are transitions of `JobLifecycle`.
/// Claiming is one UPDATE … WHERE id IN (SELECT …) statement: on PostgreSQL the inner select takes the row with
/// `FOR UPDATE SKIP LOCKED`; SQLite runs the statement as one serialized write.
struct JobQueue: Sendable {
    let database: any Database
    let settings: AtelierConfig.Worker
    let clock: AtelierClock
    /// `KILL_SWITCH=true` in this process's environment: nothing is claimed (see `claim`).
    var killSwitchForced = false
    /// The upstream's shared rate-limit state: claims skip models no key has room for (nil: nothing skipped).
    var gate: UpstreamGate? = nil

    private var sql: any SQLDatabase { database.sql }
    private var isPostgres: Bool { sql.dialect.name == "postgresql" }

    /// Takes the next due job for `workerID` (see `claim(workerID:limit:)`); nil when none is due.
    func claim(workerID: String) async throws -> JobRecord? {
        try await claim(workerID: workerID, limit: 1).jobs.first
    }

    /// Jobs one claim took, with the upstream gate as read for them (stored limits and usable keys), which the
    /// runner admits each of them through without reading those again.
    struct Claimed: Sendable {
        var jobs: [JobRecord] = []
        var gate: UpstreamGate? = nil
    }

    /// Takes up to `limit` due jobs for `workerID` in one statement, fair between owners: each owner's jobs take
    /// turns after the jobs it already has running (its k-th job here is turn running + k), lowest turn first, then
    /// oldest; owners at their limit are skipped. Within one owner, jobs outside a batch go before batch jobs, then
    /// oldest first. Returns the jobs as they are after the claim: running, with a fresh lease and their next event
    /// `seq` already taken for `job.running` (so publishing that event needs no second read).
    ///
    /// The statement never sorts the backlog: a recursive walk of the `jobs_queue_order` index lists the owners
    /// with queued jobs (one seek each), each owner's next `limit` due jobs are one more seek, and the running counts
    /// come from the running jobs only. On PostgreSQL the best owners (at least `lockedCandidates`) are chosen
    /// first without locks; only their next jobs are then taken `FOR UPDATE SKIP LOCKED`, so concurrent claimers
    /// get different jobs of the same owner instead of queuing behind one row. Only the `limit` best owners can
    /// hold one of the `limit` best turns, so the choice is the same as ranking every owner.
    ///
    /// While the kill switch is on (the admin setting, checked in the same statement, or `KILL_SWITCH=true`)
    /// nothing is claimed: queued jobs and retries wait, running ones finish, so upstream spending stops.
    func claim(workerID: String, limit: Int) async throws -> Claimed {
        if killSwitchForced || limit < 1 { return Claimed() }
        let now = clock.now()
        let gate = try await self.gate?.snapshot()
        let blocked = try await gate?.blocked() ?? (all: false, models: [])
        if blocked.all { return Claimed() }
        let paused: SQLQueryString = blocked.models.isEmpty ? "" : " AND j.model NOT IN (\(binds: blocked.models))"
        let due: SQLQueryString = "j.status = 'queued' AND j.run_after <= \(bind: now)\(paused)"
        let count: SQLQueryString = "\(unsafeRaw: String(limit))"
        let perOwner = settings.perOwnerLimit
        let candidates: SQLQueryString =
            isPostgres
            ? """
            WITH RECURSIVE \(owners), \(running), best AS (
                SELECT o.owner AS owner, COALESCE(r.n, 0) AS n FROM owners o LEFT JOIN running r ON r.owner = o.owner
                CROSS JOIN LATERAL (
                    SELECT j.batch_id, j.run_after, j.created_at FROM jobs j WHERE \(due) AND j.owner = o.owner
                    ORDER BY \(Self.order) LIMIT 1) hd
                WHERE o.owner IS NOT NULL AND COALESCE(r.n, 0) < \(bind: perOwner)
                ORDER BY COALESCE(r.n, 0), (hd.batch_id IS NOT NULL), hd.run_after, hd.created_at
                LIMIT \(unsafeRaw: String(max(limit, Self.lockedCandidates)))),
            ranked AS (
                SELECT l.id, l.run_after, l.created_at,
                    b.n + ROW_NUMBER() OVER (PARTITION BY b.owner ORDER BY (l.batch_id IS NOT NULL), l.run_after, l.created_at) AS turn
                FROM best b CROSS JOIN LATERAL (
                    SELECT j.id, j.batch_id, j.run_after, j.created_at FROM jobs j WHERE \(due) AND j.owner = b.owner
                    ORDER BY \(Self.order) LIMIT \(count) FOR UPDATE SKIP LOCKED) l)
            SELECT id FROM ranked WHERE turn <= \(bind: perOwner) ORDER BY turn, run_after, created_at LIMIT \(count)
            """
            : """
            WITH RECURSIVE \(owners), \(running), ranked AS (
                SELECT q.id, q.run_after, q.created_at,
                    COALESCE(r.n, 0) + ROW_NUMBER() OVER (PARTITION BY o.owner ORDER BY (q.batch_id IS NOT NULL), q.run_after, q.created_at)
                        AS turn
                FROM owners o LEFT JOIN running r ON r.owner = o.owner
                JOIN jobs q ON q.id IN (
                    SELECT j.id FROM jobs j WHERE \(due) AND j.owner = o.owner ORDER BY \(Self.order) LIMIT \(count))
                WHERE o.owner IS NOT NULL AND COALESCE(r.n, 0) < \(bind: perOwner))
            SELECT id FROM ranked WHERE turn <= \(bind: perOwner) ORDER BY turn, run_after, created_at LIMIT \(count)
            """
        let jobs = try await JobLifecycle.claim(
            candidates: candidates, workerID: workerID, leaseSeconds: settings.leaseSeconds, now: now, on: sql)
        return Claimed(jobs: jobs, gate: gate)
    }

    /// An owner's queued jobs in the order they are claimed: jobs outside a batch first (a user's single job does
    /// not wait behind their own batch), then by due time and age; the `jobs_queue_order` index is in this order.
    static let order: SQLQueryString = "(j.batch_id IS NOT NULL), j.run_after, j.created_at"

    /// Owners whose next job a PostgreSQL claim locks (skipping rows other claimers hold): enough for the workers
    /// claiming at the same moment, few enough that a claim never locks every waiting owner's job.
    static let lockedCandidates = 8

    /// Owners with queued jobs, one index seek each (a "loose index scan" over `jobs_queue_order`).
    private var owners: SQLQueryString {
        """
        owners(owner) AS (
            SELECT (SELECT owner FROM jobs WHERE status = 'queued' ORDER BY owner LIMIT 1)
            UNION ALL
            SELECT (SELECT j.owner FROM jobs j WHERE j.status = 'queued' AND j.owner > o.owner ORDER BY j.owner LIMIT 1)
            FROM owners o WHERE o.owner IS NOT NULL)
        """
    }

    private var running: SQLQueryString {
        "running AS (SELECT owner, COUNT(*) AS n FROM jobs WHERE status = 'running' GROUP BY owner)"
    }

    /// Exponential back-off with full jitter, never sooner than the upstream asked.
    func backoff(attempt: Int, error: ProviderError) -> Double {
        let exponential = settings.retryBaseSeconds * pow(2, Double(max(0, attempt - 1)))
        let jittered = Double.random(in: exponential / 2...exponential)
        return max(error.retryAfter ?? 0, min(jittered, 300))
    }
}
