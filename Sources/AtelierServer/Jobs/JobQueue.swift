import AtelierCore
import Fluent
import Foundation
import SQLKit

/// The jobs table used as a queue: which job a claim takes (fair between owners) and back-off. The claim's row
/// write, leases and their recovery are transitions of `JobLifecycle`.
/// Claiming is one UPDATE … WHERE id = (SELECT …) statement: on PostgreSQL the inner select takes the row with
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

    /// Takes the next due job for `workerID`, preferring owners with the fewest running jobs (round-robin),
    /// skipping owners at their limit. Returns the job as it is after the claim: running, with a fresh lease and
    /// its next event `seq` already taken for `job.running` (so publishing that event needs no second read).
    ///
    /// The statement never sorts the backlog: a recursive walk of the `jobs_queue_heads` index lists the owners
    /// with queued jobs (one seek each), each owner's oldest due job is one more seek, and the running counts
    /// come from the running jobs only. On PostgreSQL the best few owners (`lockedCandidates`) are chosen first
    /// without locks; only their next jobs are then taken `FOR UPDATE SKIP LOCKED`, so concurrent claimers get
    /// different jobs of the same owner instead of queuing behind one row, and a claim locks a handful of rows
    /// however many owners are waiting.
    ///
    /// While the kill switch is on (the admin setting, checked in the same statement, or `KILL_SWITCH=true`)
    /// nothing is claimed: queued jobs and retries wait, running ones finish, so upstream spending stops.
    func claim(workerID: String) async throws -> JobRecord? {
        if killSwitchForced { return nil }
        let now = clock.now()
        let blocked = try await gate?.blocked() ?? (all: false, models: [])
        if blocked.all { return nil }
        let paused: SQLQueryString = blocked.models.isEmpty ? "" : " AND j.model NOT IN (\(binds: blocked.models))"
        let candidate: SQLQueryString =
            isPostgres
            ? """
            WITH RECURSIVE \(owners), \(running), best AS (
                SELECT o.owner AS owner, COALESCE(r.n, 0) AS n FROM owners o LEFT JOIN running r ON r.owner = o.owner
                CROSS JOIN LATERAL (
                    SELECT j.run_after, j.created_at FROM jobs j
                    WHERE j.status = 'queued' AND j.owner = o.owner AND j.run_after <= \(bind: now)\(paused)
                    ORDER BY j.run_after, j.created_at LIMIT 1) hd
                WHERE o.owner IS NOT NULL AND COALESCE(r.n, 0) < \(bind: settings.perOwnerLimit)
                ORDER BY COALESCE(r.n, 0), hd.run_after, hd.created_at LIMIT \(unsafeRaw: String(Self.lockedCandidates)))
            SELECT l.id FROM best b CROSS JOIN LATERAL (
                SELECT j.id, j.run_after, j.created_at FROM jobs j
                WHERE j.status = 'queued' AND j.owner = b.owner AND j.run_after <= \(bind: now)\(paused)
                ORDER BY j.run_after, j.created_at LIMIT 1 FOR UPDATE SKIP LOCKED) l
            ORDER BY b.n, l.run_after, l.created_at LIMIT 1
            """
            : """
            WITH RECURSIVE \(owners), \(running), heads AS (
                SELECT COALESCE(r.n, 0) AS n, (
                    SELECT j.id FROM jobs j
                    WHERE j.status = 'queued' AND j.owner = o.owner AND j.run_after <= \(bind: now)\(paused)
                    ORDER BY j.run_after, j.created_at LIMIT 1) AS id
                FROM owners o LEFT JOIN running r ON r.owner = o.owner
                WHERE o.owner IS NOT NULL AND COALESCE(r.n, 0) < \(bind: settings.perOwnerLimit))
            SELECT h.id FROM heads h JOIN jobs j ON j.id = h.id ORDER BY h.n, j.run_after, j.created_at LIMIT 1
            """
        return try await JobLifecycle.claim(
            candidate: candidate, workerID: workerID, leaseSeconds: settings.leaseSeconds, now: now, on: sql)
    }

    /// Owners whose next job a PostgreSQL claim locks (skipping rows other claimers hold): enough for the workers
    /// claiming at the same moment, few enough that a claim never locks every waiting owner's job.
    static let lockedCandidates = 8

    /// Owners with queued jobs, one index seek each (a "loose index scan" over `jobs_queue_heads`).
    private var owners: SQLQueryString {
        """
        owners(owner) AS (
            SELECT (SELECT owner FROM jobs WHERE status = 'queued' ORDER BY owner LIMIT 1)
            UNION ALL
            SELECT (SELECT j.owner FROM jobs j WHERE j.status = 'queued' AND j.owner > o.owner ORDER BY j.owner LIMIT 1)
            FROM owners o WHERE o.owner IS NOT NULL)
        """
    }

    /// Jobs running on workers, by owner. An OpenAI batch's jobs (running upstream with no lease expiry, see
    /// `JobLifecycle.startHeldBatchJobs`) are left out: they hold no worker, and 50,000 of them must neither use up
    /// their owner's limit for a day nor be counted at every claim (`jobs_lease` skips them).
    private var running: SQLQueryString {
        "running AS (SELECT owner, COUNT(*) AS n FROM jobs WHERE status = 'running' AND lease_expires IS NOT NULL GROUP BY owner)"
    }

    /// Exponential back-off with full jitter, never sooner than the upstream asked.
    func backoff(attempt: Int, error: ProviderError) -> Double {
        let exponential = settings.retryBaseSeconds * pow(2, Double(max(0, attempt - 1)))
        let jittered = Double.random(in: exponential / 2...exponential)
        return max(error.retryAfter ?? 0, min(jittered, 300))
    }
}
