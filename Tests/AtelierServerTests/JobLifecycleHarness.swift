import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor

/// Drives `JobLifecycle` directly: brings a fresh job to a given state through the real transitions, applies one
/// transition, and reads back what a half-done transition would leave behind (status, money, events).
struct JobLifecycleHarness {
    let app: Application
    let clock: ManualClock
    var faultAfter: (@Sendable (JobLifecycle.Step) throws -> Void)? = nil
    static let worker = "w"
    static let reservation: Int64 = 40_000_000

    var lifecycle: JobLifecycle {
        JobLifecycle(database: app.db, publisher: app.publisher(), faultAfter: faultAfter)
    }

    /// What must move together: status, attempts, seq, the ledger row's state and the stored events.
    struct Snapshot: Equatable, CustomStringConvertible {
        var status: String?
        var attempts: Int?
        var seq: Int?
        var ledger: String?
        /// What earlier attempts were charged (an interrupted charge must not stay).
        var charged: Int64?
        var events: Int
        var lastEventSeq: Int?

        var description: String {
            "status=\(status ?? "gone") attempts=\(attempts.map(String.init) ?? "-") seq=\(seq.map(String.init) ?? "-") "
                + "ledger=\(ledger ?? "none") charged=\(charged.map(String.init) ?? "-") events=\(events) last_event_seq=\(lastEventSeq.map(String.init) ?? "-")"
        }
    }

    func snapshot(_ jobID: UUID) async throws -> Snapshot {
        let job = try await JobRecord.find(jobID, on: app.db)
        let ledger = try await app.db.sql.raw("SELECT state, charged_nano FROM spend_ledger WHERE job_id = \(bind: jobID)").first()
        let events = try await JobEventRecord.query(on: app.db).filter(\.$jobID == jobID).sort(\.$seq).all()
        return Snapshot(
            status: job?.status, attempts: job?.attempts, seq: job?.seq,
            ledger: try ledger?.decode(column: "state", as: String.self),
            charged: try ledger?.decode(column: "charged_nano", as: Int64?.self) ?? nil, events: events.count,
            lastEventSeq: events.last?.seq)
    }

    /// A new job brought to `state` by the transitions the server uses (only the enqueue sees `faultAfter`).
    func job(in state: JobStatus, owner: String = "lifecycle") async throws -> UUID {
        let params = try await app.atelier.validator(app.db).validate(ImageRequestInput(prompt: "a lighthouse"), for: .generations)
        let record = JobRecord(owner: owner, kind: .generate, params: params, maxAttempts: 3, now: clock.now)
        record.estimatedCostNano = Self.reservation
        let plain = JobLifecycleHarness(app: app, clock: clock)
        await lifecycle.deliver(try await lifecycle.enqueue(record, images: [], budget: .unlimited))
        let jobID = try record.requireID()
        switch state {
        case .queued: break
        case .running: _ = try #require(try await plain.claim(jobID))
        case .succeeded:
            _ = try #require(try await plain.claim(jobID))
            _ = try #require(try await plain.succeed(jobID))
        case .failed:
            _ = try #require(try await plain.claim(jobID))
            _ = try #require(try await plain.lifecycle.end(jobID, workerID: Self.worker, Self.failure))
        case .canceled: _ = try #require(try await plain.lifecycle.cancel(jobID))
        }
        return jobID
    }

    static let failure = JobLifecycle.Ending(
        status: .failed, code: "upstream_server_error", message: "The upstream failed.", retryable: true, costNano: nil,
        release: true)

    func claim(_ jobID: UUID) async throws -> JobRecord? {
        try await JobLifecycle.claim(
            candidates: "SELECT id FROM jobs WHERE id = \(bind: jobID)", workerID: Self.worker, leaseSeconds: 30,
            now: clock.now, on: app.db.sql
        ).first
    }

    func succeed(_ jobID: UUID) async throws -> JobLifecycle.Published? {
        let result = JobResultInfo(size: "1024x1024", quality: "low", background: "opaque", outputFormat: "png")
        let outcome = JobOutcome(images: [], usage: FakeImageProvider.defaultUsage, requestID: "req_1", result: result)
        // As the worker does: from the row it holds (the job as it is now here).
        let held = try await app.db.sql.raw("SELECT * FROM jobs WHERE id = \(bind: jobID)").first().map(JobRecord.init(row:))
        return try await lifecycle.succeed(
            jobID, kind: .generate, workerID: Self.worker,
            with: .init(outcome: outcome, costNano: 30_000_000, upstreamKey: "default"), held: held)
    }
}

/// The transitions the table walks, each applied to one job; true when it reports that it applied.
enum Transition: String, CaseIterable, CustomTestStringConvertible {
    case claim, heartbeat, succeed, fail, endCanceled, retryLater, waitForRoom, abandon, cancel, retry, delete,
        expireLease, purge

    var testDescription: String { rawValue }

    func apply(_ jobID: UUID, _ h: JobLifecycleHarness) async throws -> Bool {
        let lifecycle = h.lifecycle
        let w = JobLifecycleHarness.worker
        switch self {
        case .claim: return try await h.claim(jobID) != nil
        case .heartbeat: return try await lifecycle.heartbeat(workerID: w, jobIDs: [jobID], leaseSeconds: 30).isEmpty
        case .succeed: return try await h.succeed(jobID) != nil
        case .fail: return try await lifecycle.end(jobID, workerID: w, JobLifecycleHarness.failure) != nil
        case .endCanceled:
            var ending = JobLifecycleHarness.failure
            ending.status = .canceled
            return try await lifecycle.end(jobID, workerID: w, ending) != nil
        case .retryLater:
            // An attempt that reached the upstream: charged, and the next one reserved, in the same transaction.
            let retry = JobLifecycle.Requeue.retryLater(delay: 5, error: .timeout)
            return try await lifecycle.requeue(jobID, workerID: w, retry, charge: .some(1_000_000)) != nil
        case .waitForRoom:
            let wait = JobLifecycle.Requeue.waitForRoom(until: h.clock.now + 5, message: "Waiting.", takeSeq: true)
            return try await lifecycle.requeue(jobID, workerID: w, wait) != nil
        case .abandon: return try await lifecycle.requeue(jobID, workerID: w, .abandon(announce: true)) != nil
        case .cancel: return try await lifecycle.cancel(jobID) != nil
        case .retry:
            return try await lifecycle.retry(
                jobID, owner: "lifecycle", estimatedCostNano: JobLifecycleHarness.reservation, budget: .unlimited) != nil
        case .delete: return try await JobLifecycle.delete(jobID, on: h.app.db, faultAfter: h.faultAfter) != nil
        case .expireLease:
            h.clock.advance(by: 31)
            defer { h.clock.advance(by: -31) }
            let expired = try await lifecycle.expireLeases()
            return (expired.requeued + expired.canceled + expired.failed).contains(jobID)
        case .purge:
            let due = try await JobLifecycle.purgeable(before: h.clock.now + 1, limit: 10_000, on: h.app.db)
            guard due.contains(where: { $0.id == jobID }) else { return false }
            return try await JobLifecycle.delete(jobID, on: h.app.db) != nil
        }
    }
}
