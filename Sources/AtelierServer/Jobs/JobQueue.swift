import AtelierCore
import Fluent
import Foundation
import SQLKit

/// The jobs table used as a queue: claiming, leases, back-off and lease recovery.
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

    private var sql: any SQLDatabase { database as! any SQLDatabase }
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
        let candidate: SQLQueryString = isPostgres ? """
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
            """ : """
            WITH RECURSIVE \(owners), \(running), heads AS (
                SELECT COALESCE(r.n, 0) AS n, (
                    SELECT j.id FROM jobs j
                    WHERE j.status = 'queued' AND j.owner = o.owner AND j.run_after <= \(bind: now)\(paused)
                    ORDER BY j.run_after, j.created_at LIMIT 1) AS id
                FROM owners o LEFT JOIN running r ON r.owner = o.owner
                WHERE o.owner IS NOT NULL AND COALESCE(r.n, 0) < \(bind: settings.perOwnerLimit))
            SELECT h.id FROM heads h JOIN jobs j ON j.id = h.id ORDER BY h.n, j.run_after, j.created_at LIMIT 1
            """
        let query: SQLQueryString = """
            UPDATE jobs SET status = 'running', lease_owner = \(bind: workerID),
                lease_expires = \(bind: now + settings.leaseSeconds), attempts = attempts + 1,
                started_at = COALESCE(started_at, \(bind: now)), seq = seq + 1
            WHERE status = 'queued' AND id = (\(candidate))
                AND NOT EXISTS (SELECT 1 FROM app_settings WHERE name = \(bind: RuntimeSettings.Name.killSwitch.rawValue) AND value = 'true')
            RETURNING *
            """
        return try await sql.raw(query).first()?.decode(fluentModel: JobRecord.self)
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

    private var running: SQLQueryString {
        "running AS (SELECT owner, COUNT(*) AS n FROM jobs WHERE status = 'running' GROUP BY owner)"
    }

    /// Extends the leases of this worker's running jobs; returns the ids it should stop: cancellation was
    /// requested, or the lease was lost (expired and requeued or claimed by another worker), so the upstream
    /// call is not paid for twice.
    func renewLeases(workerID: String, jobIDs: [UUID]) async throws -> [UUID] {
        guard !jobIDs.isEmpty else { return [] }
        let expires = clock.now() + settings.leaseSeconds
        try await JobRecord.query(on: database)
            .filter(\.$id ~~ jobIDs).filter(\.$leaseOwner == workerID).filter(\.$status == JobStatus.running.rawValue)
            .set(\.$leaseExpires, to: expires)
            .update()
        let jobs = try await JobRecord.query(on: database).filter(\.$id ~~ jobIDs).all()
        let held = Set(jobs.filter { $0.leaseOwner == workerID && $0.jobStatus == .running && !$0.cancelRequested }.compactMap(\.id))
        return jobIDs.filter { !held.contains($0) }
    }

    /// Jobs whose worker died (lease expired) go back to the queue; returns their ids. Those that already used
    /// all their attempts fail instead (see `recoverExpired`), so a job that kills its worker cannot loop forever.
    func requeueExpired() async throws -> [UUID] {
        try await recoverExpired().requeued
    }

    /// Expired leases: jobs whose cancellation was requested end canceled, jobs with attempts left are requeued,
    /// the others fail with `lease_expired`.
    func recoverExpired() async throws -> (requeued: [UUID], canceled: [UUID], failed: [UUID]) {
        let now = clock.now()
        let canceled = try await sql.raw("""
            UPDATE jobs SET status = 'canceled', lease_owner = NULL, lease_expires = NULL, finished_at = \(bind: now),
                error_code = 'canceled', error_message = 'Canceled by the user.', error_retryable = \(bind: false)
            WHERE status = 'running' AND lease_expires < \(bind: now) AND cancel_requested = \(bind: true)
            RETURNING id
            """).all()
        let failed = try await sql.raw("""
            UPDATE jobs SET status = 'failed', lease_owner = NULL, lease_expires = NULL, finished_at = \(bind: now),
                error_code = 'lease_expired', error_retryable = \(bind: false),
                error_message = 'The worker running this job stopped responding on every attempt (it may have crashed on this job).'
            WHERE status = 'running' AND lease_expires < \(bind: now) AND attempts >= max_attempts
            RETURNING id
            """).all()
        let rows = try await sql.raw("""
            UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires = NULL, run_after = \(bind: now)
            WHERE status = 'running' AND lease_expires < \(bind: now)
            RETURNING id
            """).all()
        let ids = { (rows: [any SQLRow]) in try rows.map { try $0.decode(column: "id", as: UUID.self) } }
        return (try ids(rows), try ids(canceled), try ids(failed))
    }

    /// Gives the job back to the queue after a retryable failure, to run after `delay` seconds.
    func release(_ id: UUID, workerID: String, delay: Double, error: ProviderError) async throws -> Bool {
        let count = try await sql.raw("""
            UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires = NULL,
                run_after = \(bind: clock.now() + delay), error_code = \(bind: error.code),
                error_message = \(bind: error.message), error_retryable = \(bind: true)
            WHERE id = \(bind: id) AND lease_owner = \(bind: workerID) AND status = 'running'
            RETURNING id
            """).all().count
        return count == 1
    }

    /// Gives the job back to the queue without counting the attempt, because the upstream has no room for it yet
    /// (a 429 or pacing): it keeps its place in line; claims skip its model while every key is paused for it.
    /// Returns the row with the `seq` for its `job.waiting` event (the claim's, when `job.running` was not published).
    func deferForRateLimit(
        _ id: UUID, workerID: String, until: Double, message: String, takeSeq: Bool
    ) async throws -> JobRecord? {
        let now = clock.now()
        return try await sql.raw("""
            UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires = NULL, seq = seq + \(bind: takeSeq ? 1 : 0),
                attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                rate_limit_until = \(bind: until), rate_limited_since = COALESCE(rate_limited_since, \(bind: now)),
                error_code = 'rate_limited', error_message = \(bind: message), error_retryable = \(bind: true)
            WHERE id = \(bind: id) AND lease_owner = \(bind: workerID) AND status = 'running'
            RETURNING *
            """).first()?.decode(fluentModel: JobRecord.self)
    }

    /// Releases a lease without counting the attempt (graceful shutdown).
    func abandon(_ id: UUID, workerID: String) async throws {
        try await sql.raw("""
            UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires = NULL,
                attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
            WHERE id = \(bind: id) AND lease_owner = \(bind: workerID) AND status = 'running'
            """).run()
    }

    /// Exponential back-off with full jitter, never sooner than the upstream asked.
    func backoff(attempt: Int, error: ProviderError) -> Double {
        let exponential = settings.retryBaseSeconds * pow(2, Double(max(0, attempt - 1)))
        let jittered = Double.random(in: exponential / 2...exponential)
        return max(error.retryAfter ?? 0, min(jittered, 300))
    }
}
