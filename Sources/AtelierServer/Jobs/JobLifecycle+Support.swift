import AtelierCore
import Fluent
import Foundation
import SQLKit

/// The steps inside one transition's transaction, and a fault hook between them (tests only): throwing from it
/// rolls the whole transition back, as a process killed at that point would, so status, money and event are seen
/// all-or-nothing.
extension JobLifecycle {
    enum Step: String, Sendable, CaseIterable {
        /// The job row is written (its status changed).
        case rowWritten
        /// The reservation was made, settled or released.
        case moneyMoved
        /// The event (with its `seq`) and its webhook outbox rows are stored.
        case eventStored
    }

    func step(_ step: Step) throws { try faultAfter?(step) }

    /// What a transition leaves to do after its commit: hand the events to the streams (other instances get them
    /// by NOTIFY) and count them.
    struct Published: Sendable {
        var events: [JobEventPublisher.RecordedEvent] = []
        /// Caps the exact cost passed when it was settled (for the metric).
        var overruns: [SpendLedger.Overrun] = []
        /// The job as the transition left it (nil when the transition removed it or changed several jobs).
        var job: JobRecord? = nil
        /// `enqueue` with `startNow` claimed the job in its own transaction: how it was admitted upstream.
        var started: JobStartNow.Admitted? = nil
        /// The other instances were told of the queued job in its own statement (`PostgresAdmission`).
        var workAnnounced = false
    }

    /// Delivers what a committed transition recorded.
    func deliver(_ published: Published) async {
        published.overruns.forEach(publisher.metrics.spendOverrun)
        for event in published.events { await publisher.deliver(event) }
    }

    /// One row as the statement that changed it returned it.
    func job(_ row: (any SQLRow)?) throws -> JobRecord? {
        try row.map(JobRecord.init(row:))
    }
}

extension JobLifecycle {
    /// What `succeed`'s `UPDATE` writes, set on the worker's model, with `row`'s columns that can change under a
    /// running job's worker (`seq`, `favorite`, `cancel_requested`) when given: the model is then the row as stored.
    @discardableResult
    static func setSucceeded(_ job: JobRecord, with success: Success, at now: Double, row: (any SQLRow)? = nil) throws -> JobRecord {
        job.status = JobStatus.succeeded.rawValue
        job.leaseOwner = nil
        job.leaseExpires = nil
        job.finishedAt = now
        job.upstreamRequestID = success.outcome.requestID
        job.costNano = success.costNano
        job.errorCode = success.unstored?.code
        job.errorMessage = success.unstored.map { _ in unstoredMessage }
        job.errorRetryable = success.unstored.map { _ in false }
        job.upstreamKey = success.upstreamKey
        job.result = success.outcome.result
        job.usage = success.outcome.usage
        if let row {
            job.seq = try row.decode(column: "seq", as: Int.self)
            job.favorite = try row.decode(column: "favorite", as: Bool.self)
            job.cancelRequested = try row.decode(column: "cancel_requested", as: Bool.self)
        }
        return job
    }
}

extension JobLifecycle {
    /// A transition's transaction in a task of its own: on SQLite on the writer's connection and thread (no Fluent
    /// `transaction` future chain and thread hops), elsewhere Fluent's. Its own task, because a worker ends its
    /// attempt from the attempt's task, canceled when the job was (the SQLite statements of a canceled task throw
    /// `CancellationError`; the ending must still commit).
    func writeTransaction<T: Sendable>(_ work: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        let database = database
        guard let executor = database.writeExecutor else { return try await database.transaction(work) }
        return try await Task(executorPreference: executor) { try await database.writeTransaction(work) }.value
    }
}
