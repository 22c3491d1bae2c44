import AtelierCore
import Fluent
import Foundation
import SQLKit

/// The job state machine: the only code that changes a job's status (`grep "status = '"` finds the writes here
/// and nowhere else). Each transition is one function that, in one transaction, checks the allowed from-states
/// in its `WHERE`, writes the row once, moves the money (`SpendLedger`), stores the event with its `seq` (taken
/// by the same statement that writes the row), and returns what to deliver after the commit (`deliver`). A
/// transition whose from-state does not hold changes nothing and returns nil.
///
///     queued ──claim──▶ running ──succeed──▶ succeeded
///       ▲  ╲              │ ╲──fail / cancel / expire (no attempts left)──▶ failed, canceled
///       │   cancel        │                                                   │
///       └──retry later, wait, abandon, expire──┘        retry ◀──────────────┘
///     finished ──delete / purge──▶ gone
///     (new) ──enqueue and claim (the fast path: admitted and started in one transaction)──▶ running
struct JobLifecycle: Sendable {
    let database: any Database
    let clock: AtelierClock
    let publisher: JobEventPublisher
    /// Tests only: called after each step inside a transition's transaction (see `Step`).
    var faultAfter: (@Sendable (Step) throws -> Void)?
    /// Successes commit in groups when set: those that end together share one transaction (see `GroupCommit`).
    var completions: GroupCommit<Published?>? = nil

    init(database: any Database, publisher: JobEventPublisher, faultAfter: (@Sendable (Step) throws -> Void)? = nil) {
        self.database = database
        self.clock = publisher.clock
        self.publisher = publisher
        self.faultAfter = faultAfter
    }

    // MARK: Requests

    /// A new job with its input image rows, its `job.queued` event (seq 1) and its reservation, after its caller's
    /// images-per-minute hit (`rateHit`). Given `group`, it commits in the next group commit (see `GroupCommit`)
    /// and its refusal rolls back only its own writes; alone, in a transaction of its own.
    /// Given `startNow` (the fast path, see `JobStartNow`) and its admission agreeing, the job is also claimed in
    /// the same transaction: `queued ──enqueue and claim──▶ running`, leased to `startNow.workerID`, with
    /// `job.running` (seq 2) after `job.queued`; `Published.started` then says which upstream key it was admitted on.
    func enqueue(
        _ job: JobRecord, images: [ImageRecord], budget: SpendBudget, rateHit: RateHit? = nil,
        group: GroupCommit<Published>? = nil, startNow: JobStartNow? = nil
    ) async throws -> Published {
        if PostgresAdmission.applies(to: self, images: images, startNow: startNow),
            let published = try await PostgresAdmission(lifecycle: self).enqueue(job, budget: budget, rateHit: rateHit, startNow: startNow)
        {
            return published
        }
        let work: GroupCommit<Published>.Work = { db in
            if let rateHit { try await rateHit.apply(on: db, clock: clock) }
            job.status = JobStatus.queued.rawValue
            job.seq = 1
            try await Self.insertNew(job, on: db)
            for image in images { try await image.create(on: db) }
            try step(.rowWritten)
            let event = try await publisher.record(JobEventType.queued.rawValue, job: job, images: images, on: db)
            try step(.eventStored)
            // Last, so the spend rows stay locked (PostgreSQL) only until the commit right after.
            try await SpendLedger(database: db).reserve(
                jobID: try job.requireID(), owner: job.owner, amount: job.estimatedCostNano, budget: budget, now: clock.now())
            try step(.moneyMoved)
            var published = Published(events: [event], job: job)
            if let startNow, let started = try await startAtAdmission(job, images: images, startNow: startNow, on: db) {
                published.events.append(started.event)
                published.started = started.admitted
            }
            return published
        }
        if let group { return try await group.commit(on: database, work) }
        return try await database.transaction(work)
    }

    /// The fast path's claim of a new, queued `job` in its admission transaction `db`, when `startNow.admit` agrees:
    /// leased to the worker, attempt 1, `job.running` stored; `job` is left as the row is. Nil when it stays queued.
    func startAtAdmission(
        _ job: JobRecord, images: [ImageRecord], startNow: JobStartNow, on db: any Database
    ) async throws -> (event: JobEventPublisher.RecordedEvent, admitted: JobStartNow.Admitted)? {
        guard let admitted = try await startNow.admit(db, job) else { return nil }
        let now = clock.now()
        guard
            let claimed = try await sql(db).raw(
                """
                UPDATE jobs SET status = 'running', lease_owner = \(bind: startNow.workerID),
                    lease_expires = \(bind: now + startNow.leaseSeconds), attempts = attempts + 1,
                    started_at = \(bind: now), seq = seq + 1
                WHERE id = \(bind: try job.requireID()) AND status = 'queued'
                RETURNING attempts, seq
                """
            ).first()
        else { return nil }
        // The row as the statement left it, set on the model written just before (no `RETURNING *` decoded
        // through Fluent's reflection).
        startNow.setClaimed(
            job, at: now, attempts: try claimed.decode(column: "attempts", as: Int.self),
            seq: try claimed.decode(column: "seq", as: Int.self))
        try step(.rowWritten)
        let event = try await publisher.record(JobEventType.running.rawValue, job: job, images: images, on: db)
        try step(.eventStored)
        return (event, admitted)
    }

    /// A new job's row in one raw statement: Fluent's `create` reflected over the model's fields (`Mirror`) on every
    /// call, a sixth of an admitted job's CPU. JSON columns are bound as text, as Fluent's SQLite driver stores them;
    /// PostgreSQL casts them to jsonb.
    static func insertNew(_ job: JobRecord, on db: any Database) async throws {
        let sql = db.sql
        let postgres = sql.dialect.name == "postgresql"
        func json<T: Encodable>(_ value: T?) throws -> SQLQueryString {
            let text = try value.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            return postgres ? "CAST(\(bind: text) AS jsonb)" : "\(bind: text)"
        }
        try await sql.raw(
            """
            INSERT INTO jobs (id, owner, kind, status, prompt, model, params, options, estimated_cost_nano, attempts,
                max_attempts, run_after, cancel_requested, seq, favorite, idempotency_key, request_hash, created_at, compat_caller)
            VALUES (\(bind: try job.requireID()), \(bind: job.owner), \(bind: job.kind), \(bind: job.status), \(bind: job.prompt),
                \(bind: job.model), \(try json(job.params)), \(try json(job.options)), \(bind: job.estimatedCostNano),
                \(bind: job.attempts), \(bind: job.maxAttempts), \(bind: job.runAfter), \(bind: job.cancelRequested), \(bind: job.seq),
                \(bind: job.favorite), \(bind: job.idempotencyKey), \(bind: job.requestHash), \(bind: job.createdAt),
                \(bind: job.compatCaller))
            """
        ).run()
        // What Fluent's `create` leaves on the model: saved, and its children queryable (`job.$images`).
        job.$id.exists = true
        job.$images.fromId = job.id
    }

    /// Cancels a queued job: status, released reservation and `job.canceled` commit together. A running job is only
    /// marked (`cancel_requested`); its worker stops it and ends it with `end(… .canceled …)`. Nil when finished.
    func cancel(_ jobID: UUID, message: String = "Canceled by the user.") async throws -> Published? {
        let now = clock.now()
        let queued = try await writeTransaction { db -> Published? in
            guard
                let job = try job(
                    try await sql(db).raw(
                        """
                        UPDATE jobs SET status = 'canceled', cancel_requested = \(bind: true), finished_at = \(bind: now), seq = seq + 1,
                            error_code = 'canceled', error_message = \(bind: message), error_retryable = \(bind: false)
                        WHERE id = \(bind: jobID) AND status = 'queued' RETURNING *
                        """
                    ).first())
            else { return nil }
            try step(.rowWritten)
            try await SpendLedger(database: db).release(jobID: jobID, now: now)
            try step(.moneyMoved)
            let event = try await publisher.record(JobEventType.canceled.rawValue, job: job, on: db)
            try step(.eventStored)
            return Published(events: [event], job: job)
        }
        if let queued { return queued }
        guard
            let running = try job(
                try await sql(database).raw(
                    """
                    UPDATE jobs SET cancel_requested = \(bind: true) WHERE id = \(bind: jobID) AND status = 'running' RETURNING *
                    """
                ).first())
        else { return nil }
        return Published(job: running)
    }

    /// Cancels up to `limit` queued jobs (retries waiting for their back-off too), each with its release and event.
    func cancelQueued(limit: Int, message: String, batchID: UUID? = nil) async throws -> Published {
        let now = clock.now()
        return try await database.transaction { db in
            let rows = try await sql(db).raw(
                """
                UPDATE jobs SET status = 'canceled', cancel_requested = \(bind: true), finished_at = \(bind: now), seq = seq + 1,
                    error_code = 'canceled', error_message = \(bind: message), error_retryable = \(bind: false)
                WHERE id IN (SELECT id FROM jobs WHERE status = 'queued'\(batchID.map { SQLQueryString(" AND batch_id = \(bind: $0)") } ?? "")
                    LIMIT \(bind: limit)) AND status = 'queued'
                RETURNING *
                """
            ).all()
            try step(.rowWritten)
            var published = Published()
            for row in rows {
                let job = try JobRecord(row: row)
                try await SpendLedger(database: db).release(jobID: try job.requireID(), now: now)
                published.events.append(try await publisher.record(JobEventType.canceled.rawValue, job: job, on: db))
            }
            try step(.moneyMoved)
            try step(.eventStored)
            return published
        }
    }

    /// A failed or canceled job runs again from its first attempt, with a new reservation and `job.queued`.
    func retry(_ jobID: UUID, owner: String, estimatedCostNano: Int64?, budget: SpendBudget) async throws -> Published? {
        let now = clock.now()
        return try await database.transaction { db -> Published? in
            guard
                let job = try job(
                    try await sql(db).raw(
                        """
                        UPDATE jobs SET status = 'queued', attempts = 0, cancel_requested = \(bind: false), run_after = \(bind: now),
                            finished_at = NULL, error_code = NULL, error_message = NULL, error_retryable = NULL, seq = seq + 1
                        WHERE id = \(bind: jobID) AND status IN ('failed', 'canceled') RETURNING *
                        """
                    ).first())
            else { return nil }
            try step(.rowWritten)
            try await SpendLedger(database: db).reserve(
                jobID: jobID, owner: owner, amount: estimatedCostNano, budget: budget, now: now)
            try step(.moneyMoved)
            let event = try await publisher.record(JobEventType.queued.rawValue, job: job, on: db)
            try step(.eventStored)
            return Published(events: [event], job: job)
        }
    }

    /// Ends every queued or running job of an account being deleted (canceled, reservations released) without
    /// events: the account's events, jobs and webhooks are deleted right after. Returns the jobs that were running.
    func endForDeletedAccount(owner: String) async throws -> [UUID] {
        let now = clock.now()
        return try await database.transaction { db in
            let rows = try await sql(db).raw(
                """
                UPDATE jobs SET status = 'canceled', cancel_requested = \(bind: true), finished_at = \(bind: now),
                    lease_owner = NULL, lease_expires = NULL
                WHERE owner = \(bind: owner) AND status IN ('queued', 'running') RETURNING id, lease_owner
                """
            ).all()
            try step(.rowWritten)
            var running: [UUID] = []
            for row in rows {
                let id = try row.decode(column: "id", as: UUID.self)
                try await SpendLedger(database: db).release(jobID: id, now: now)
                if try row.decode(column: "lease_owner", as: String?.self) != nil { running.append(id) }
            }
            try step(.moneyMoved)
            return running
        }
    }

    /// Removes a finished job with its events and image rows; returns the image rows (`JobDeleter` then removes
    /// the blobs no other image uses). Nil when the job is not finished (or already gone).
    static func delete(
        _ jobID: UUID, on database: any Database, faultAfter: (@Sendable (Step) throws -> Void)? = nil
    ) async throws -> [ImageRecord]? {
        try await database.transaction { db -> [ImageRecord]? in
            let sql = db.sql
            // A write first (it changes nothing): on SQLite it takes the write lock before this transaction reads,
            // so a writer committing in between makes it wait instead of failing with "database is locked".
            guard
                try await sql.raw(
                    """
                    UPDATE jobs SET seq = seq WHERE id = \(bind: jobID) AND status IN ('succeeded', 'failed', 'canceled')
                    RETURNING id
                    """
                ).first() != nil
            else { return nil }
            let images = try await ImageRecord.query(on: db).filter(\.$job.$id == jobID).all()
            try await sql.raw("DELETE FROM images WHERE job_id = \(bind: jobID)").run()
            try await sql.raw("DELETE FROM job_events WHERE job_id = \(bind: jobID)").run()
            try await sql.raw("DELETE FROM jobs WHERE id = \(bind: jobID)").run()
            try faultAfter?(.rowWritten)
            return images
        }
    }

    /// Finished jobs created before `cutoff` (retention purges them with `delete`).
    static func purgeable(before cutoff: Double, limit: Int, on database: any Database) async throws -> [JobRecord] {
        try await JobRecord.query(on: database).filter(\.$createdAt < cutoff)
            .filter(\.$status ~~ [JobStatus.succeeded, .failed, .canceled].map(\.rawValue)).limit(limit).all()
    }

    // MARK: Worker

    /// Takes the jobs `candidates` selects (see `JobQueue.claim`) for `workerID`: running, leased, one more attempt,
    /// and each one's `seq` taken for `job.running` (which the runner stores once it knows the model may run). One
    /// statement, so no transaction; nothing is claimed while the admin's kill switch is on.
    static func claim(
        candidates: SQLQueryString, workerID: String, leaseSeconds: Double, now: Double, on sql: any SQLDatabase
    ) async throws -> [JobRecord] {
        try await sql.raw(
            """
            UPDATE jobs SET status = 'running', lease_owner = \(bind: workerID),
                lease_expires = \(bind: now + leaseSeconds), attempts = attempts + 1,
                started_at = COALESCE(started_at, \(bind: now)), seq = seq + 1
            WHERE status = 'queued' AND id IN (\(candidates))
                AND NOT EXISTS (SELECT 1 FROM app_settings WHERE name = \(bind: RuntimeSettings.Name.killSwitch.rawValue) AND value = 'true')
            RETURNING *
            """
        ).all().map(JobRecord.init(row:))
    }

    /// Heartbeat: extends the leases `workerID` holds; returns the ids it should stop (cancellation requested, or
    /// the lease lost to expiry or another worker), so the upstream call is not paid for twice.
    func heartbeat(workerID: String, jobIDs: [UUID], leaseSeconds: Double) async throws -> [UUID] {
        guard !jobIDs.isEmpty else { return [] }
        let held = try await sql(database).raw(
            """
            UPDATE jobs SET lease_expires = \(bind: clock.now() + leaseSeconds)
            WHERE id IN (\(binds: jobIDs)) AND lease_owner = \(bind: workerID) AND status = 'running'
            RETURNING id, cancel_requested
            """
        ).all().filter { try !$0.decode(column: "cancel_requested", as: Bool.self) }
        let kept = Set(try held.map { try $0.decode(column: "id", as: UUID.self) })
        return jobIDs.filter { !kept.contains($0) }
    }

    /// What a successful attempt leaves: its output rows (blobs already stored), usage, exact cost.
    struct Success: Sendable {
        var outcome: JobOutcome
        var costNano: Int64?
        var upstreamKey: String?
        /// The image reached a compatible-route caller but could not be stored (the fast path): the job succeeds
        /// with the error on it and `job.storage_failed` just before `job.succeeded`.
        var unstored: JobFailure? = nil
    }

    /// Commits the outcome while `workerID` holds the lease: one row write (status, result, usage, cost), the
    /// output rows, the settlement and `job.succeeded` built from the values in hand. Nil when the lease was lost
    /// (a re-run can never add a second set of images or a second charge). With `completions`, it commits in the
    /// next group commit, in a SAVEPOINT of its own: its failure rolls back only its own writes.
    /// `held`: the row as the worker holds it (its claim); the transition then reads back only the columns that can
    /// change under a running job's worker and leaves `held` as the row is (no `RETURNING *` decoded), and on
    /// PostgreSQL a generate job commits in one statement (`PostgresCompletion`).
    func succeed(
        _ jobID: UUID, kind: JobKind, workerID: String, with success: Success, held: JobRecord? = nil
    ) async throws -> Published? {
        if PostgresCompletion.applies(to: self, kind: kind, job: held), let held {
            let completion = PostgresCompletion(lifecycle: self)
            // In a task of its own, as `writeTransaction`: a cancel arriving now must not lose the commit.
            switch try await Task(operation: { try await completion.succeed(held, workerID: workerID, with: success) }).value {
            case .succeeded(let published): return published
            case .lost: return nil
            case .elsewhere: break
            }
        }
        let now = clock.now()
        let outcome = success.outcome
        let returning: SQLQueryString = held == nil ? "*" : "seq, favorite, cancel_requested"
        let write: @Sendable (any Database) async throws -> Published? = { db in
            guard
                let row = try await sql(db).raw(
                    """
                    UPDATE jobs SET status = 'succeeded', lease_owner = NULL, lease_expires = NULL,
                        seq = seq + \(bind: success.unstored == nil ? 1 : 2),
                        finished_at = \(bind: now), upstream_request_id = \(bind: outcome.requestID),
                        cost_nano = \(bind: success.costNano), error_code = \(bind: success.unstored?.code),
                        error_message = \(bind: success.unstored.map { _ in Self.unstoredMessage }),
                        error_retryable = \(bind: success.unstored.map { _ in false }),
                        upstream_key = \(bind: success.upstreamKey), result = \(bind: outcome.result), usage = \(bind: outcome.usage)
                    WHERE id = \(bind: jobID) AND lease_owner = \(bind: workerID) AND status = 'running'
                    RETURNING \(returning)
                    """
                ).first()
            else { return nil }
            let job = try held.map { try Self.setSucceeded($0, with: success, at: now, row: row) } ?? JobRecord(row: row)
            for image in outcome.images { try await image.insert(on: db) }
            try step(.rowWritten)
            let overruns = try await SpendLedger(database: db).settle(jobID: jobID, cost: success.costNano, now: now)
            try step(.moneyMoved)
            // A generate job has no input rows: its images are the outputs in hand.
            let inputs =
                kind == .generate
                ? []
                : try await ImageRecord.query(on: db).filter(\.$job.$id == jobID)
                    .filter(\.$role != ImageRecord.Role.output.rawValue).all()
            var events: [JobEventPublisher.RecordedEvent] = []
            if success.unstored != nil {
                job.seq -= 1  // the seq taken just before `job.succeeded`'s
                events.append(
                    try await publisher.record(
                        JobEventType.storageFailed.rawValue, job: job, images: inputs + outcome.images, on: db))
                job.seq += 1
            }
            events.append(try await publisher.record(JobEventType.succeeded.rawValue, job: job, images: inputs + outcome.images, on: db))
            try step(.eventStored)
            return Published(events: events, overruns: overruns, job: job)
        }
        if let completions { return try await completions.commit(on: database, write) }
        return try await writeTransaction { try await write($0) }
    }

    static let unstoredMessage = "The image reached its caller but could not be stored."

    /// How a running attempt ends without success, and what it is charged.
    struct Ending: Sendable {
        var status: JobStatus
        var code: String
        var message: String
        var retryable: Bool
        /// Settled at this amount (nil: the reservation) unless `release`.
        var costNano: Int64?
        /// Nothing was spent upstream: the reservation is given back.
        var release: Bool
        /// The attempt was no real failure (it waited too long for the rate limit).
        var refundAttempt = false
        var upstreamKey: String?
    }

    /// Ends a running job as failed or canceled while `workerID` holds its lease, with its money and event.
    func end(_ jobID: UUID, workerID: String, _ ending: Ending) async throws -> Published? {
        precondition(ending.status == .failed || ending.status == .canceled)
        let now = clock.now()
        return try await writeTransaction { db -> Published? in
            guard
                let job = try job(
                    try await sql(db).raw(
                        """
                        UPDATE jobs SET status = \(bind: ending.status.rawValue), lease_owner = NULL, lease_expires = NULL,
                            attempts = attempts - \(bind: ending.refundAttempt ? 1 : 0), seq = seq + 1,
                            finished_at = \(bind: now), error_code = \(bind: ending.code),
                            error_message = \(bind: ending.message), error_retryable = \(bind: ending.retryable),
                            upstream_key = COALESCE(CAST(\(bind: ending.upstreamKey) AS TEXT), upstream_key)
                        WHERE id = \(bind: jobID) AND lease_owner = \(bind: workerID) AND status = 'running'
                        RETURNING *
                        """
                    ).first())
            else { return nil }
            try step(.rowWritten)
            let ledger = SpendLedger(database: db)
            var overruns: [SpendLedger.Overrun] = []
            if ending.release {
                try await ledger.release(jobID: jobID, now: now)
            } else {
                overruns = try await ledger.settle(jobID: jobID, cost: ending.costNano, now: now)
            }
            try step(.moneyMoved)
            let event = try await publisher.record(JobEventType(ending: ending.status).rawValue, job: job, on: db)
            try step(.eventStored)
            return Published(events: [event], overruns: overruns, job: job)
        }
    }

    /// How a running job goes back to the queue.
    enum Requeue: Sendable {
        /// After a retryable failure, to run after `delay` seconds (`job.queued`).
        case retryLater(delay: Double, error: ProviderError)
        /// The upstream has no room yet: keeps its place without spending an attempt (`job.waiting`).
        /// `takeSeq` false: the claim's `seq` is used, as `job.running` was never stored.
        case waitForRoom(until: Double, message: String, takeSeq: Bool)
        /// Released without spending the attempt (graceful shutdown: no event; a refused key: `job.queued`).
        case abandon(announce: Bool)
    }

    /// Back to the queue while `workerID` holds the lease. `charge`: what the attempt cost upstream is charged first
    /// and the next attempt reserves the estimate again (refused with `spend_cap_reached` when that passes a cap:
    /// nothing changes then, and the caller fails the job).
    func requeue(_ jobID: UUID, workerID: String, _ how: Requeue, charge: Int64?? = nil) async throws -> Published? {
        let now = clock.now()
        let write: SQLQueryString
        let event: JobEventType?
        switch how {
        case .retryLater(let delay, let error):
            event = .queued
            write = """
                run_after = \(bind: now + delay), error_code = \(bind: error.code), seq = seq + 1,
                error_message = \(bind: error.message), error_retryable = \(bind: true)
                """
        case .waitForRoom(let until, let message, let takeSeq):
            event = .waiting
            write = """
                seq = seq + \(bind: takeSeq ? 1 : 0), attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                rate_limit_until = \(bind: until), rate_limited_since = COALESCE(rate_limited_since, \(bind: now)),
                error_code = 'rate_limited', error_message = \(bind: message), error_retryable = \(bind: true)
                """
        case .abandon(let announce):
            event = announce ? .queued : nil
            write = "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, seq = seq + \(bind: announce ? 1 : 0)"
        }
        return try await writeTransaction { db -> Published? in
            guard
                let job = try job(
                    try await sql(db).raw(
                        """
                        UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires = NULL, \(write)
                        WHERE id = \(bind: jobID) AND lease_owner = \(bind: workerID) AND status = 'running'
                        RETURNING *
                        """
                    ).first())
            else { return nil }
            try step(.rowWritten)
            if let charge {
                try await SpendLedger(database: db).chargeAttemptAndReserveNext(jobID: jobID, cost: charge, now: now)
            }
            try step(.moneyMoved)
            var published = Published(job: job)
            if let event { published.events.append(try await publisher.record(event.rawValue, job: job, on: db)) }
            try step(.eventStored)
            return published
        }
    }

    /// Expired leases (the worker died): jobs whose cancellation was requested end canceled, jobs of the compatible
    /// routes fail `interrupted` charged their reservation (their caller's request died with the process: a re-run
    /// would pay the upstream again for nobody), jobs with attempts left are requeued, the others fail with
    /// `lease_expired` (so a job that kills its worker cannot loop forever). Each job in its own transaction with its release and event.
    func expireLeases() async throws -> (requeued: [UUID], canceled: [UUID], failed: [UUID]) {
        let now = clock.now()
        let expired = try await sql(database).raw(
            """
            SELECT id FROM jobs WHERE status = 'running' AND lease_expires < \(bind: now)
            """
        ).all().map { try $0.decode(column: "id", as: UUID.self) }
        var result: (requeued: [UUID], canceled: [UUID], failed: [UUID]) = ([], [], [])
        for jobID in expired {
            let published = try await database.transaction { db -> Published? in
                guard
                    let job = try job(
                        try await sql(db).raw(
                            """
                            UPDATE jobs SET lease_owner = NULL, lease_expires = NULL, seq = seq + 1,
                                status = CASE WHEN cancel_requested THEN 'canceled' WHEN attempts >= max_attempts OR compat_caller THEN 'failed' ELSE 'queued' END,
                                run_after = CASE WHEN cancel_requested OR attempts >= max_attempts OR compat_caller THEN run_after ELSE \(bind: now) END,
                                finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts OR compat_caller THEN \(bind: now) ELSE finished_at END,
                                error_retryable = CASE WHEN cancel_requested OR attempts >= max_attempts OR compat_caller THEN \(bind: false) ELSE error_retryable END,
                                cost_nano = CASE WHEN compat_caller AND NOT cancel_requested THEN estimated_cost_nano ELSE cost_nano END,
                                error_code = CASE WHEN cancel_requested THEN 'canceled' WHEN compat_caller THEN 'interrupted'
                                    WHEN attempts >= max_attempts THEN 'lease_expired' ELSE error_code END,
                                error_message = CASE WHEN cancel_requested THEN 'Canceled by the user.'
                                    WHEN compat_caller THEN \(bind: Self.interruptedMessage)
                                    WHEN attempts >= max_attempts THEN \(bind: Self.leaseExpiredMessage) ELSE error_message END
                            WHERE id = \(bind: jobID) AND status = 'running' AND lease_expires < \(bind: now)
                            RETURNING *
                            """
                        ).first())
                else { return nil }
                try step(.rowWritten)
                let status = try JobStatus(row: job)
                var overruns: [SpendLedger.Overrun] = []
                if status == .failed && job.errorCode == "interrupted" {
                    // The attempt may have reached the upstream: charged its reservation, never run again.
                    overruns = try await SpendLedger(database: db).settle(jobID: jobID, cost: nil, now: now)
                } else if status != .queued {
                    try await SpendLedger(database: db).release(jobID: jobID, now: now)
                }
                try step(.moneyMoved)
                let event = try await publisher.record(
                    (status == .queued ? .queued : JobEventType(ending: status)).rawValue, job: job, on: db)
                try step(.eventStored)
                return Published(events: [event], overruns: overruns, job: job)
            }
            guard let published else { continue }
            await deliver(published)
            switch try published.job.map(JobStatus.init(row:)) {
            case .queued: result.requeued.append(jobID)
            case .canceled: result.canceled.append(jobID)
            default: result.failed.append(jobID)
            }
        }
        return result
    }

    static let interruptedMessage =
        "The process running this job stopped after the model may have been called. A job of the OpenAI-compatible routes is not run again (its caller's request ended with it); it is charged its estimate. Send the request again."

    static let leaseExpiredMessage =
        "The worker running this job stopped responding on every attempt (it may have crashed on this job)."

    /// Takes the job's next event `seq` for an event that changes no status (a partial image, a key out of quota)
    /// and reads the job as it is, in one statement. Transitions take theirs in the statement that writes the row.
    static func takeSeq(_ jobID: UUID, on database: any Database) async throws -> JobRecord? {
        try await database.sql.raw("UPDATE jobs SET seq = seq + 1 WHERE id = \(bind: jobID) RETURNING *").first()
            .map(JobRecord.init(row:))
    }

    func sql(_ db: any Database) -> any SQLDatabase { db.sql }
}

extension JobLifecycle {
    /// Enqueues a chunk of a batch inside the caller's transaction: one multi-row INSERT of new queued jobs, only
    /// the columns a new job sets (the rest are NULL), binding the same values Fluent would (its model encoding is
    /// the slow part of a big batch). Batch jobs
    /// store no `job.queued` event (a 10,000-row batch would write 10,000); their events start at `job.running`.
    static func enqueueBatchJobs(_ jobs: [JobRecord], on db: any Database) async throws {
        if db.sql.dialect.name == "postgresql" { return try await BatchJobRows(jobs: jobs).insert(on: db.sql) }
        let rows: [SQLQueryString] = jobs.map { job in
            """
            (\(bind: job.id!), \(bind: job.owner), \(bind: job.kind), 'queued', \(bind: job.prompt), \(bind: job.model),
             \(bind: job.params), \(bind: job.attempts), \(bind: job.maxAttempts), \(bind: job.runAfter), \(bind: job.cancelRequested),
             \(bind: job.seq), \(bind: job.favorite), \(bind: job.estimatedCostNano), \(bind: job.createdAt), \(bind: job.batchID),
             \(bind: job.batchIndex), \(bind: job.batchRow), \(bind: job.batchVars))
            """
        }
        try await db.sql.raw(
            """
            INSERT INTO jobs (id, owner, kind, status, prompt, model, params, attempts, max_attempts, run_after, cancel_requested,
                seq, favorite, estimated_cost_nano, created_at, batch_id, batch_index, batch_row, batch_vars)
            VALUES \(SQLList(rows))
            """
        ).run()
    }

    /// Asks every running job of a batch to stop (their workers end them); returns their ids.
    func requestCancelRunning(batchID: UUID) async throws -> [UUID] {
        try await sql(database).raw(
            """
            UPDATE jobs SET cancel_requested = \(bind: true) WHERE batch_id = \(bind: batchID) AND status = 'running' RETURNING id
            """
        ).all().map { try $0.decode(column: "id", as: UUID.self) }
    }

    /// Up to `limit` failed jobs of a batch run again from their first attempt, each with a new reservation and
    /// `job.queued`, in one transaction.
    func retryFailed(batchID: UUID, owner: String, limit: Int, budget: SpendBudget) async throws -> Published {
        let now = clock.now()
        return try await database.transaction { db in
            let rows = try await sql(db).raw(
                """
                UPDATE jobs SET status = 'queued', attempts = 0, cancel_requested = \(bind: false), run_after = \(bind: now),
                    finished_at = NULL, error_code = NULL, error_message = NULL, error_retryable = NULL, seq = seq + 1
                WHERE id IN (SELECT id FROM jobs WHERE batch_id = \(bind: batchID) AND status = 'failed' LIMIT \(bind: limit))
                    AND status = 'failed'
                RETURNING *
                """
            ).all()
            try step(.rowWritten)
            var published = Published()
            for row in rows {
                let job = try JobRecord(row: row)
                try await SpendLedger(database: db).reserve(
                    jobID: try job.requireID(), owner: owner, amount: job.estimatedCostNano, budget: budget, now: now)
                published.events.append(try await publisher.record(JobEventType.queued.rawValue, job: job, on: db))
            }
            try step(.moneyMoved)
            try step(.eventStored)
            return published
        }
    }

    /// An `openai_batch` batch's held jobs (queued, never due) start running under `holder` (the batch's runner,
    /// see `OpenAIBatchRunner`) with no lease expiry: the OpenAI batch runs them, and `succeed` / `end` with
    /// `workerID: holder` finish them as its output lines arrive. One statement; no events (as for a batch's
    /// queued jobs, 10,000 rows would write 10,000): their events are the terminal ones. Returns how many started.
    @discardableResult
    func startHeldBatchJobs(batchID: UUID, holder: String) async throws -> Int {
        let now = clock.now()
        return try await sql(database).raw(
            """
            UPDATE jobs SET status = 'running', lease_owner = \(bind: holder), lease_expires = NULL, attempts = attempts + 1,
                started_at = COALESCE(started_at, \(bind: now))
            WHERE batch_id = \(bind: batchID) AND status = 'queued' AND run_after >= \(bind: BatchCreator.heldRunAfter)
            RETURNING id
            """
        ).all().count
    }
}

// Here, not in a file of its own: this file is the only one that writes a job's status, including a new job's.
/// A chunk of a batch's jobs as one PostgreSQL `INSERT … SELECT … FROM UNNEST(…)`: one array bind per column
/// instead of one bind per cell, and the JSON columns encoded here and cast to jsonb. PostgresKit encodes a bind
/// of a Codable struct by first trying its array encoder and, when that throws, JSON: per cell, that was most of
/// the 13.5 s 10,000 rows took (`bench/batch_create.py`); the server's own work was about 1 s.
private struct BatchJobRows {
    let jobs: [JobRecord]

    func insert(on sql: any SQLDatabase) async throws {
        let json = JSONEncoder()
        func text<T: Encodable>(_ value: T) throws -> String { String(decoding: try json.encode(value), as: UTF8.self) }
        try await sql.raw(
            """
            INSERT INTO jobs (id, owner, kind, status, prompt, model, params, attempts, max_attempts, run_after, cancel_requested,
                seq, favorite, estimated_cost_nano, created_at, batch_id, batch_index, batch_row, batch_vars)
            SELECT id, owner, kind, 'queued', prompt, model, params::jsonb, attempts, max_attempts, run_after, cancel_requested,
                seq, favorite, estimated_cost_nano, created_at, batch_id, batch_index, batch_row, batch_vars::jsonb
            FROM UNNEST(
                \(bind: jobs.map { $0.id! }), \(bind: jobs.map(\.owner)), \(bind: jobs.map(\.kind)), \(bind: jobs.map(\.prompt)),
                \(bind: jobs.map(\.model)), \(bind: try jobs.map { try text($0.params) }), \(bind: jobs.map(\.attempts)),
                \(bind: jobs.map(\.maxAttempts)), \(bind: jobs.map(\.runAfter)), \(bind: jobs.map(\.cancelRequested)),
                \(bind: jobs.map(\.seq)), \(bind: jobs.map(\.favorite)), \(bind: jobs.map { $0.estimatedCostNano ?? 0 }),
                \(bind: jobs.map(\.createdAt)), \(bind: jobs.map { $0.batchID! }), \(bind: jobs.map { $0.batchIndex ?? 0 }),
                \(bind: jobs.map { $0.batchRow ?? 0 }), \(bind: try jobs.map { try text($0.batchVars ?? [:]) })
            ) AS t(id, owner, kind, prompt, model, params, attempts, max_attempts, run_after, cancel_requested,
                seq, favorite, estimated_cost_nano, created_at, batch_id, batch_index, batch_row, batch_vars)
            """
        ).run()
    }
}
