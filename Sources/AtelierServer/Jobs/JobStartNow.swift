import AtelierCore
import Fluent
import Foundation
import SQLKit

/// The fast path's claim: a job created while this process's worker has a free slot starts in its own admission
/// transaction (`JobLifecycle.enqueue(… startNow:)`), leased to that worker, instead of waiting for the worker to
/// wake, claim it (a second transaction and fsync) and store `job.running` (a third). It starts only when the queue
/// would let it: the kill switch is off, its owner is under `WORKER_PER_OWNER_LIMIT`, and the upstream gate admits
/// the call (a key with room in its request and image buckets, not paused); otherwise it stays queued as before.
struct JobStartNow: Sendable {
    /// How the job was admitted upstream, for its attempt (`JobRunner.runAdmitted`).
    struct Admitted: Sendable {
        /// The key the call goes out with (nil: no gate, e.g. the offline provider).
        var upstreamKey: String?
        /// The pacing rules as the admission read them (stored limits first).
        var rules: [AtelierConfig.RateLimitRule]?
    }

    let workerID: String
    let leaseSeconds: Double
    let perOwnerLimit: Int
    let gate: UpstreamGate?

    /// In the admission transaction, after the job row and its reservation: whether `job` may start now. The gate's
    /// take (or, refused, its pause of the full lanes) is part of the same transaction.
    /// Any failure here (a statement of the gate's) is a `TransientDatabaseError`: the creation fails with 503
    /// `busy`, its savepoint rolled back, instead of a 500.
    func admit(_ db: any Database, _ job: JobRecord) async throws -> Admitted? {
        do {
            return try await decide(db, job)
        } catch let error where !(error is CancellationError) {
            throw TransientDatabaseError(during: "the upstream gate", underlying: error)
        }
    }

    private func decide(_ db: any Database, _ job: JobRecord) async throws -> Admitted? {
        // The owner's running jobs, the kill switch and the gate's stored limits and usable keys: one statement.
        let read = try await UpstreamGate.counts(
            "(SELECT COUNT(*) FROM jobs WHERE owner = \(bind: job.owner) AND status = 'running' AND lease_expires IS NOT NULL)",
            """
            (SELECT COUNT(*) FROM app_settings WHERE name = \(bind: RuntimeSettings.Name.killSwitch.rawValue) AND value = 'true')
            """,
            withStateOf: gate, on: db)
        guard read.first < perOwnerLimit, read.second == 0 else { return nil }
        guard let inTransaction = read.gate else { return Admitted(upstreamKey: nil, rules: nil) }
        switch try await inTransaction.admit(model: job.model, images: job.params.n) {
        case .key(let key): return Admitted(upstreamKey: key, rules: inTransaction.upstream.rules)
        case .wait: return nil
        }
    }
}

extension UpstreamGate {
    /// This gate reading and writing on `database` (a transaction).
    func on(_ database: any Database) -> UpstreamGate {
        UpstreamGate(
            database: database, upstream: upstream, keyLabels: keyLabels, fingerprints: fingerprints, clock: clock,
            knownActiveKeys: knownActiveKeys)
    }
}

extension JobStartNow {
    /// `job` as the fast path's claim at admission leaves its row: running, leased to this worker from `now`, with the
    /// claim's `attempts` and `seq` (SQLite's UPDATE returns them; `atelier_admit_job` sets 1 and 2).
    func setClaimed(_ job: JobRecord, at now: Double, attempts: Int, seq: Int) {
        job.status = JobStatus.running.rawValue
        job.leaseOwner = workerID
        job.leaseExpires = now + leaseSeconds
        job.attempts = attempts
        job.startedAt = now
        job.seq = seq
    }
}
