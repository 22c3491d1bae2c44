import Fluent
import FluentSQL
import Foundation
import SQLKit
import Vapor

/// Records a job event (next per-job `seq`) and hands it to every listening stream, here and on other instances.
struct JobEventPublisher: Sendable {
    let database: any Database
    let hub: JobEventHub
    let clock: AtelierClock
    /// Turns events into their stored payload and webhook data (the HTTP layer's `JobEventJSON`).
    let renderer: any JobEventRendering
    let relay: PostgresEventRelay?
    let metrics: AtelierMetrics

    /// Takes the job's next `seq`, stores the event and delivers it.
    @discardableResult
    func publish(_ type: String, jobID: UUID, image: ImageRecord? = nil) async throws -> JobEvent? {
        guard let recorded = try await record(type, jobID: jobID, image: image, on: database) else { return nil }
        await deliver(recorded)
        return recorded.event
    }

    /// Stores and delivers an event for `job` as read by the statement that took its next `seq` (the claim does
    /// that for `job.running`). `images`: the job's image rows when the caller knows them (read otherwise).
    @discardableResult
    func publish(_ type: String, job: JobRecord, images: [ImageRecord]? = nil, image: ImageRecord? = nil) async throws -> JobEvent {
        let recorded = try await record(type, job: job, images: images, image: image, on: database)
        await deliver(recorded)
        return recorded.event
    }

    /// Takes the job's next `seq` and stores the event on `database`, without delivering it. Given a transaction,
    /// the change and its event commit together (a crash cannot keep one without the other, and it saves commits);
    /// `deliver` the event once the transaction has committed.
    func record(_ type: String, jobID: UUID, image: ImageRecord? = nil, on database: any Database) async throws -> RecordedEvent? {
        guard let job = try await JobLifecycle.takeSeq(jobID, on: database) else { return nil }
        return try await record(type, job: job, image: image, on: database)
    }

    /// Stores the event for `job`, whose `seq` is already taken, on `database`. `images` are the job's image rows
    /// when the caller has them (they are read otherwise). On PostgreSQL the row is announced in the same statement;
    /// inside a transaction the announcement goes out at the commit.
    func record(
        _ type: String, job: JobRecord, images known: [ImageRecord]? = nil, image: ImageRecord? = nil, on database: any Database
    ) async throws -> RecordedEvent {
        let jobID = try job.requireID()
        let images = if let known { known } else { try await ImageRecord.query(on: database).filter(\.$job.$id == jobID).all() }
        let content = JobEventContent(type: type, job: job, images: images, image: image, at: clock.now())
        let text = try renderer.payload(content)
        let record = JobEventRecord(jobID: jobID, owner: job.owner, seq: job.seq, type: type, payload: text, now: clock.now())
        if let relay {
            try await relay.store(record, on: database)
        } else {
            try await record.insert(on: database)
        }
        if WebhookEvent.jobEvents.contains(type) {
            // The outbox rows commit with the event (and the change it records) when `database` is a transaction.
            try await WebhookOutbox(database: database, clock: clock).enqueue(type, owner: job.owner, data: renderer.webhookData(content))
        }
        return RecordedEvent(event: JobEvent(record), kind: job.kind, status: job.status, errorCode: job.errorCode)
    }

    /// A stored event not yet delivered, with what the metrics count.
    struct RecordedEvent: Sendable {
        let event: JobEvent
        let kind: String
        let status: String
        let errorCode: String?
    }

    /// Hands a stored (and committed) event to this instance's streams (other instances get it by NOTIFY) and
    /// counts a final status.
    func deliver(_ recorded: RecordedEvent) async {
        if recorded.event.isTerminal {
            metrics.jobFinished(kind: recorded.kind, status: recorded.status, errorCode: recorded.errorCode)
        }
        await hub.deliver(recorded.event)
    }
}
