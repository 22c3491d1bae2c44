import AtelierCore
import FluentPostgresDriver
import Foundation
import SQLKit

/// A new job's admission on PostgreSQL as one statement, `atelier_admit_job` (migration `CreateAdmitJobFunction`):
/// one round trip in autocommit, its own transaction, instead of `BEGIN`, seven to thirteen statements and `COMMIT`.
/// Everything the function writes is computed here first (the job row, both events' payloads, the notifications,
/// the rate window, the spend periods and caps, the lease, the environment's pacing rules), so nothing is read back.
/// Refusals come back as SQLSTATE `AT001` (images per minute) and `AT002` (a spending cap) and become the same 429s
/// as `RateHit.apply` and `SpendLedger.hold` throw; the statement then wrote nothing. No group commit: PostgreSQL
/// flushes the WAL of commits that arrive together once (its own group commit), and a lone job needs no savepoint.
/// When the gate needs more than one existing lane's take (several usable keys, no lane yet, no room: reads,
/// inserts, pauses), the function raises `AT003`, writes nothing, and `enqueue` answers nil: the caller admits the
/// job on the transactional path (a second try, never a queued job a worker could claim in between).
struct PostgresAdmission: Sendable {
    let lifecycle: JobLifecycle

    /// Whether `enqueue` takes this path: PostgreSQL, no input images (edits keep the transactional path), no
    /// fault hook (tests that fail a step inside the transaction), and a gate that reads its keys.
    static func applies(
        to lifecycle: JobLifecycle, images: [ImageRecord], startNow: JobStartNow?
    ) -> Bool {
        lifecycle.database.sql.dialect.name == "postgresql" && images.isEmpty && lifecycle.faultAfter == nil
            && startNow?.gate?.knownActiveKeys == nil
    }

    func enqueue(_ job: JobRecord, budget: SpendBudget, rateHit: RateHit?, startNow: JobStartNow?) async throws -> JobLifecycle.Published? {
        let publisher = lifecycle.publisher
        let now = lifecycle.clock.now()
        let jobID = try job.requireID()
        let amount = try SpendLedger.amountToReserve(job.estimatedCostNano, budget: budget)
        let (day, month) = SpendBudget.periods(at: now)
        let caps = SpendBudget.rows(owner: job.owner, budget: budget, day: day, month: month)
        let window = Int64(now) / RateLimiter.window * RateLimiter.window
        job.status = JobStatus.queued.rawValue
        job.seq = 1
        let queued = try record(.queued, job: job, at: now)
        var running: JobEventRecord?
        if let startNow {
            startNow.setClaimed(job, at: now, attempts: 1, seq: 2)
            running = try record(.running, job: job, at: now)
            Self.setQueued(job)
        }
        let gate = startNow?.gate
        let rules = gate?.upstream.rules ?? []
        let relay = publisher.relay
        func json<T: Encodable>(_ value: T?) throws -> String? {
            try value.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        }
        func message(_ event: JobEventRecord) -> String? {
            relay.map { "e|\($0.instanceID)|\(jobID.uuidString.lowercased())|\(event.seq)" }
        }
        let row: (any SQLRow)?
        do {
            let call: SQLQueryString = """
                SELECT outcome, upstream_key, stored_rules FROM atelier_admit_job(
                    p_id => \(bind: jobID), p_owner => \(bind: job.owner), p_kind => \(bind: job.kind), p_prompt => \(bind: job.prompt),
                    p_model => \(bind: job.model), p_params => CAST(\(bind: try json(job.params)) AS jsonb),
                    p_options => CAST(\(bind: try json(job.options)) AS jsonb), p_estimated => CAST(\(bind: job.estimatedCostNano) AS bigint),
                    p_max_attempts => CAST(\(bind: Int64(job.maxAttempts)) AS bigint), p_run_after => \(bind: job.runAfter),
                    p_idempotency_key => CAST(\(bind: job.idempotencyKey) AS text), p_request_hash => CAST(\(bind: job.requestHash) AS text),
                    p_created_at => \(bind: job.createdAt), p_compat_caller => \(bind: job.compatCaller),
                    p_rate_subjects => CAST(\(bind: rateHit?.subjects.map(\.stored) ?? []) AS text[]),
                    p_rate_cost => CAST(\(bind: Int64(rateHit?.cost ?? 0)) AS bigint), p_rate_window => CAST(\(bind: window) AS bigint),
                    p_rate_limit => CAST(\(bind: Int64(rateHit?.limit ?? 0)) AS bigint),
                    p_event_id => \(bind: queued.id!), p_event_payload => \(bind: queued.payload), p_event_at => \(bind: now),
                    p_channel => CAST(\(bind: relay.map { _ in PostgresEventRelay.channel }) AS text),
                    p_message => CAST(\(bind: message(queued)) AS text),
                    p_work_message => CAST(\(bind: relay.map { "w|\($0.instanceID)" }) AS text),
                    p_day => \(bind: day), p_month => \(bind: month), p_amount => CAST(\(bind: amount) AS bigint),
                    p_cap_day => CAST(\(bind: budget.dailyCapNano) AS bigint), p_cap_month => CAST(\(bind: budget.monthlyCapNano) AS bigint),
                    p_cap_global => CAST(\(bind: budget.globalDailyCapNano) AS bigint),
                    p_hold_subjects => CAST(\(bind: caps.map(\.subject)) AS text[]), p_hold_periods => CAST(\(bind: caps.map(\.period)) AS text[]),
                    p_hold_caps => CAST(\(bind: caps.map { $0.cap ?? -1 }) AS bigint[]), p_now => \(bind: now),
                    p_worker => CAST(\(bind: startNow?.workerID) AS text),
                    p_lease_expires => CAST(\(bind: startNow.map { now + $0.leaseSeconds }) AS double precision),
                    p_per_owner_limit => CAST(\(bind: Int64(startNow?.perOwnerLimit ?? 0)) AS bigint),
                    p_kill_switch => \(bind: RuntimeSettings.Name.killSwitch.rawValue),
                    p_running_id => CAST(\(bind: running?.id) AS uuid), p_running_payload => CAST(\(bind: running?.payload) AS text),
                    p_running_message => CAST(\(bind: running.flatMap(message)) AS text),
                    p_gate_keys => CAST(\(bind: gate?.keyLabels) AS text[]),
                    p_gate_fingerprints => CAST(\(bind: gate.map { g in g.keyLabels.map { g.fingerprints[$0] ?? "" } }) AS text[]),
                    p_rule_keys => CAST(\(bind: rules.map { $0.key ?? "" }) AS text[]), p_rule_models => CAST(\(bind: rules.map(\.model)) AS text[]),
                    p_rule_images => CAST(\(bind: rules.map { Int64($0.imagesPerWindow ?? -1) }) AS bigint[]),
                    p_rule_requests => CAST(\(bind: rules.map { Int64($0.requestsPerWindow ?? -1) }) AS bigint[]),
                    p_window => \(bind: gate?.upstream.windowSeconds ?? 60), p_images => CAST(\(bind: Int64(job.params.n)) AS bigint))
                """
            row = try await Self.retryingDeadlocks { try await lifecycle.database.sql.raw(call).first() }
        } catch let error as PSQLError {
            if error.serverInfo?[.sqlState] == "AT003" {
                Self.setQueued(job)
                return nil
            }
            throw refusal(error, rateHit: rateHit, window: window, now: now, caps: caps, amount: amount, day: day) ?? error
        }
        // The function returns one row; none would be a bug (answered as any internal error), not a crash.
        guard let row else { throw NoAdmissionRow() }
        job.$id.exists = true
        job.$images.fromId = job.id
        var published = JobLifecycle.Published(events: [recorded(queued, job: job)], job: job, workAnnounced: true)
        if try row.decode(column: "outcome", as: String.self) == "started", let startNow, let running {
            let stored = try row.decode(column: "stored_rules", as: String?.self)
            startNow.setClaimed(job, at: now, attempts: 1, seq: 2)
            published.events.append(recorded(running, job: job))
            published.started = JobStartNow.Admitted(
                upstreamKey: try row.decode(column: "upstream_key", as: String?.self),
                rules: gate == nil ? nil : try Self.rules(stored) + rules)
        }
        return published
    }

    /// Runs the one statement again when PostgreSQL chose it as a deadlock's victim or refused it for a
    /// serialization failure (SQLSTATE 40P01, 40001): it wrote nothing (one statement, its own transaction), and the
    /// transaction it met has ended. At most `tries` times; then the error goes on (503 `busy`).
    static func retryingDeadlocks<T>(tries: Int = 3, _ statement: () async throws -> T) async throws -> T {
        for _ in 1..<tries {
            do { return try await statement() } catch let error as PSQLError
                where ["40P01", "40001"].contains(error.serverInfo?[.sqlState] ?? "")
            {}
        }
        return try await statement()
    }

    private func record(_ type: JobEventType, job: JobRecord, at now: Double) throws -> JobEventRecord {
        let content = JobEventContent(type: type.rawValue, job: job, images: [], image: nil, at: now)
        return JobEventRecord(
            jobID: try job.requireID(), owner: job.owner, seq: job.seq, type: type.rawValue,
            payload: try lifecycle.publisher.renderer.payload(content), now: now)
    }

    /// The new row before the function's claim (`startNow.setClaimed` moved it on to render `job.running`).
    private static func setQueued(_ job: JobRecord) {
        job.status = JobStatus.queued.rawValue
        job.leaseOwner = nil
        job.leaseExpires = nil
        job.attempts = 0
        job.startedAt = nil
        job.seq = 1
    }

    private func recorded(_ record: JobEventRecord, job: JobRecord) -> JobEventPublisher.RecordedEvent {
        JobEventPublisher.RecordedEvent(event: JobEvent(record), kind: job.kind, status: job.status, errorCode: job.errorCode)
    }

    /// The 429 a refusal raised by the function stands for, as `RateHit.apply` or `SpendLedger.hold` words it.
    private func refusal(
        _ error: PSQLError, rateHit: RateHit?, window: Int64, now: Double,
        caps: [(subject: String, period: String, cap: Int64?, name: String, label: String)], amount: Int64, day: String
    ) -> APIError? {
        guard let state = error.serverInfo?[.sqlState], let value = error.serverInfo?[.message].flatMap({ Int64($0) }) else { return nil }
        switch state {
        case "AT001":
            guard let rateHit else { return nil }
            return RateLimiter.decision(highest: value, limit: rateHit.limit, windowStart: window, now: now).refusal(rateHit.what)
        case "AT002":
            guard caps.indices.contains(Int(value) - 1), let cap = caps[Int(value) - 1].cap else { return nil }
            let row = caps[Int(value) - 1]
            return SpendLedger.capReached(row.name, cap: cap, amount: amount, now: now, daily: row.period == day)
        default:
            return nil
        }
    }

    /// The stored pacing limits as the function returned them (`[key_label, model, images, requests]` rows).
    private static func rules(_ text: String?) throws -> [AtelierConfig.RateLimitRule] {
        guard let text, let rows = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[Any]] else { return [] }
        return rows.compactMap { row in
            guard row.count == 4, let key = row[0] as? String, let model = row[1] as? String else { return nil }
            return AtelierConfig.RateLimitRule(
                key: key == "*" ? nil : key, model: model, imagesPerWindow: row[2] as? Int, requestsPerWindow: row[3] as? Int)
        }
    }
}

/// `atelier_admit_job` answered no row.
private struct NoAdmissionRow: Error {}
