import AtelierCore
import FluentPostgresDriver
import Foundation
import SQLKit

/// A job's success on PostgreSQL as one statement, `atelier_complete_job` (migration `CreateCompleteJobFunction`):
/// one round trip in autocommit instead of `BEGIN`, the row, the image rows, the settlement, the event, the webhooks
/// read and `COMMIT`. Everything the function writes is rendered here first from the row the worker holds (its claim,
/// or the fast path's admitted row): the row as the function leaves it, both events' payloads and notifications.
/// A lost lease writes nothing and answers `lost`, as `JobLifecycle.succeed`'s `WHERE` does. When the row's `seq` or
/// `favorite` moved under the worker (a partial image's event, the user's star) the function writes nothing and
/// the caller commits on the transactional path; when a webhook endpoint subscribes, the delivery body is rendered
/// and the function called again (the first call wrote nothing).
struct PostgresCompletion: Sendable {
    let lifecycle: JobLifecycle

    enum Answer: Sendable {
        case succeeded(JobLifecycle.Published)
        /// The lease was lost: nothing was written.
        case lost
        /// Nothing was written: commit on the transactional path.
        case elsewhere
    }

    /// PostgreSQL, no fault hook (tests that fail a step inside the transaction), the worker's row in hand, and a
    /// generate job (its `job.succeeded` shows only the outputs in hand; an edit's shows its input rows, read).
    static func applies(to lifecycle: JobLifecycle, kind: JobKind, job: JobRecord?) -> Bool {
        lifecycle.database.sql.dialect.name == "postgresql" && lifecycle.faultAfter == nil && kind == .generate && job != nil
    }

    /// `job` is left as the row is after the commit, and as it was otherwise.
    func succeed(_ job: JobRecord, workerID: String, with success: JobLifecycle.Success) async throws -> Answer {
        let publisher = lifecycle.publisher
        let now = lifecycle.clock.now()
        let jobID = try job.requireID()
        let outcome = success.outcome
        let before = RowBefore(job)
        try JobLifecycle.setSucceeded(job, with: success, at: now)
        var events: [JobEventRecord] = []
        if success.unstored != nil {
            job.seq = before.seq + 1
            events.append(try record(.storageFailed, job: job, images: outcome.images, at: now))
        }
        job.seq = before.seq + events.count + 1
        let content = JobEventContent(type: JobEventType.succeeded.rawValue, job: job, images: outcome.images, image: nil, at: now)
        events.append(
            JobEventRecord(
                jobID: jobID, owner: job.owner, seq: job.seq, type: content.type, payload: try publisher.renderer.payload(content), now: now
            ))
        let row: (any SQLRow)?
        do {
            do {
                row = try await call(job, before: before, workerID: workerID, success: success, events: events, webhookBody: nil, at: now)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "AT004" {
                let body = try WebhookOutbox.body(content.type, owner: job.owner, data: publisher.renderer.webhookData(content), at: now)
                row = try await call(job, before: before, workerID: workerID, success: success, events: events, webhookBody: body, at: now)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "AT003" {
            before.restore(job)
            return .elsewhere
        } catch {
            before.restore(job)
            throw error
        }
        guard let row else { throw NoCompletionRow() }
        guard try row.decode(column: "outcome", as: String.self) == "succeeded" else {
            before.restore(job)
            return .lost
        }
        for image in outcome.images { image.$id.exists = true }
        let recorded = events.map {
            JobEventPublisher.RecordedEvent(event: JobEvent($0), kind: job.kind, status: job.status, errorCode: job.errorCode)
        }
        return .succeeded(JobLifecycle.Published(events: recorded, overruns: try Self.overruns(row), job: job))
    }

    private func call(
        _ job: JobRecord, before: RowBefore, workerID: String, success: JobLifecycle.Success, events: [JobEventRecord],
        webhookBody: String?, at now: Double
    ) async throws -> (any SQLRow)? {
        let images = success.outcome.images
        let relay = lifecycle.publisher.relay
        func json<T: Encodable>(_ value: T?) throws -> String? {
            try value.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        }
        let messages = relay.map { relay in events.map { "e|\(relay.instanceID)|\($0.jobID.uuidString.lowercased())|\($0.seq)" } }
        let webhookType = WebhookEvent.jobEvents.contains(JobEventType.succeeded.rawValue) ? JobEventType.succeeded.rawValue : nil
        return try await lifecycle.database.sql.raw(
            """
            SELECT outcome, overrun_subjects, overrun_periods, overrun_caps, overrun_amounts, overrun_labels FROM atelier_complete_job(
                p_id => \(bind: try job.requireID()), p_worker => \(bind: workerID), p_seq => CAST(\(bind: Int64(before.seq)) AS bigint),
                p_favorite => \(bind: job.favorite), p_steps => CAST(\(bind: Int64(events.count)) AS bigint), p_now => \(bind: now),
                p_request_id => CAST(\(bind: job.upstreamRequestID) AS text), p_cost => CAST(\(bind: job.costNano) AS bigint),
                p_error_code => CAST(\(bind: job.errorCode) AS text), p_error_message => CAST(\(bind: job.errorMessage) AS text),
                p_error_retryable => CAST(\(bind: job.errorRetryable) AS boolean), p_upstream_key => CAST(\(bind: job.upstreamKey) AS text),
                p_result => CAST(\(bind: try json(job.result)) AS jsonb), p_usage => CAST(\(bind: try json(job.usage)) AS jsonb),
                p_image_ids => CAST(\(bind: images.map { $0.id ?? UUID() }) AS uuid[]),
                p_image_owners => CAST(\(bind: images.map(\.owner)) AS text[]), p_image_roles => CAST(\(bind: images.map(\.role)) AS text[]),
                p_image_indexes => CAST(\(bind: images.map { Int64($0.index) }) AS bigint[]),
                p_image_blobs => CAST(\(bind: images.map(\.blobKey)) AS text[]),
                p_image_thumbnails => CAST(\(bind: images.map { $0.thumbnailKey ?? "" }) AS text[]),
                p_image_formats => CAST(\(bind: images.map(\.format)) AS text[]),
                p_image_widths => CAST(\(bind: images.map { Int64($0.width) }) AS bigint[]),
                p_image_heights => CAST(\(bind: images.map { Int64($0.height) }) AS bigint[]),
                p_image_bytes => CAST(\(bind: images.map { Int64($0.bytes) }) AS bigint[]),
                p_image_created => CAST(\(bind: images.map(\.createdAt)) AS double precision[]),
                p_event_ids => CAST(\(bind: events.map { $0.id! }) AS uuid[]), p_event_seqs => CAST(\(bind: events.map { Int64($0.seq) }) AS bigint[]),
                p_event_types => CAST(\(bind: events.map(\.type)) AS text[]), p_event_payloads => CAST(\(bind: events.map(\.payload)) AS text[]),
                p_event_created => CAST(\(bind: events.map(\.createdAt)) AS double precision[]),
                p_channel => CAST(\(bind: relay.map { _ in PostgresEventRelay.channel }) AS text),
                p_messages => CAST(\(bind: messages ?? []) AS text[]),
                p_webhook_type => CAST(\(bind: webhookType) AS text), p_webhook_body => CAST(\(bind: webhookBody) AS text),
                p_webhook_at => \(bind: now))
            """
        ).first()
    }

    private func record(_ type: JobEventType, job: JobRecord, images: [ImageRecord], at now: Double) throws -> JobEventRecord {
        let content = JobEventContent(type: type.rawValue, job: job, images: images, image: nil, at: now)
        return JobEventRecord(
            jobID: try job.requireID(), owner: job.owner, seq: job.seq, type: type.rawValue,
            payload: try lifecycle.publisher.renderer.payload(content), now: now)
    }

    /// The caps the exact cost passed, as the function returned them.
    private static func overruns(_ row: any SQLRow) throws -> [SpendLedger.Overrun] {
        guard let subjects = try row.decode(column: "overrun_subjects", as: [String]?.self) else { return [] }
        let periods = try row.decode(column: "overrun_periods", as: [String].self)
        let caps = try row.decode(column: "overrun_caps", as: [Int64].self)
        let amounts = try row.decode(column: "overrun_amounts", as: [Int64].self)
        let labels = try row.decode(column: "overrun_labels", as: [String].self)
        return subjects.indices.map {
            SpendLedger.Overrun(subject: subjects[$0], period: periods[$0], capNano: caps[$0], amountNano: amounts[$0], cap: labels[$0])
        }
    }

    /// The columns `setSucceeded` changes, as the worker's row had them: put back when nothing was written (here, and
    /// by `SuccessCommit` before it tries again). `attempts`: the claim's count, which tells this attempt's success.
    struct RowBefore: Sendable {
        let status: String, leaseOwner: String?, leaseExpires: Double?, seq: Int, finishedAt: Double?, attempts: Int
        let upstreamRequestID: String?, costNano: Int64?, errorCode: String?, errorMessage: String?, errorRetryable: Bool?
        let upstreamKey: String?, result: JobResultInfo?, usage: Usage?

        init(_ job: JobRecord) {
            (status, leaseOwner, leaseExpires, seq, finishedAt) = (job.status, job.leaseOwner, job.leaseExpires, job.seq, job.finishedAt)
            attempts = job.attempts
            (upstreamRequestID, costNano, errorCode) = (job.upstreamRequestID, job.costNano, job.errorCode)
            (errorMessage, errorRetryable, upstreamKey) = (job.errorMessage, job.errorRetryable, job.upstreamKey)
            (result, usage) = (job.result, job.usage)
        }

        func restore(_ job: JobRecord) {
            (job.status, job.leaseOwner, job.leaseExpires, job.seq, job.finishedAt) = (status, leaseOwner, leaseExpires, seq, finishedAt)
            (job.upstreamRequestID, job.costNano, job.errorCode) = (upstreamRequestID, costNano, errorCode)
            (job.errorMessage, job.errorRetryable, job.upstreamKey) = (errorMessage, errorRetryable, upstreamKey)
            (job.result, job.usage) = (result, usage)
        }
    }
}

/// `atelier_complete_job` answered no row.
private struct NoCompletionRow: Error {}
