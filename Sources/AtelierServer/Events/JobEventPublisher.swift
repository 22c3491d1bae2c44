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
    let offline: Bool
    let relay: PostgresEventRelay?
    let metrics: AtelierMetrics

    private struct Payload: Encodable {
        var type: String
        var jobID: UUID
        var seq: Int
        var job: JobDTO
        var image: ImageDTO?

        enum CodingKeys: String, CodingKey {
            case type, seq, job, image
            case jobID = "job_id"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(jobID.uuidString.lowercased(), forKey: .jobID)
            try c.encode(seq, forKey: .seq)
            try c.encode(job, forKey: .job)
            try c.encode(image, forKey: .image)
        }
    }

    @discardableResult
    func publish(_ type: String, jobID: UUID, image: ImageRecord? = nil) async throws -> JobEvent? {
        let sql = database as! any SQLDatabase
        // One statement takes the next sequence number and reads the job as it is after the change.
        guard let row = try await sql.raw("UPDATE jobs SET seq = seq + 1 WHERE id = \(bind: jobID) RETURNING *").first()
        else { return nil }
        return try await publish(type, job: try row.decode(fluentModel: JobRecord.self), image: image)
    }

    /// Publishes an event for `job` as read by the statement that took its next `seq` (the claim does that for
    /// `job.running`): the event row is stored (and, on PostgreSQL, announced in the same statement), then delivered.
    @discardableResult
    func publish(_ type: String, job: JobRecord, image: ImageRecord? = nil) async throws -> JobEvent {
        let jobID = try job.requireID()
        let images = try await ImageRecord.query(on: database).filter(\.$job.$id == jobID).all()
        let payload = Payload(
            type: type, jobID: jobID, seq: job.seq, job: JobDTO(job, images: images, offline: offline),
            image: image.map(ImageDTO.init))
        let text = String(decoding: try JSONEncoder.api.encode(payload), as: UTF8.self)
        let record = JobEventRecord(jobID: jobID, owner: job.owner, seq: job.seq, type: type, payload: text, now: clock.now())
        if let relay {
            try await relay.store(record)
        } else {
            try await record.create(on: database)
        }
        let event = JobEvent(record)
        if event.isTerminal { metrics.jobFinished(kind: job.kind, status: job.status, errorCode: job.errorCode) }
        await hub.deliver(event)
        return event
    }
}

extension JSONEncoder {
    /// The encoder every API response uses: ISO-8601 dates, stable key order.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
