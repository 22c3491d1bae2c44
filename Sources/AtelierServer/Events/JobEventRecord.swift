import Fluent
import Foundation
import SQLKit

/// A published job event, kept so a client reconnecting with Last-Event-ID misses nothing.
public final class JobEventRecord: Model, @unchecked Sendable {
    public static let schema = "job_events"

    @ID(key: .id) public var id: UUID?
    @Field(key: "job_id") public var jobID: UUID
    @Field(key: "owner") public var owner: String
    @Field(key: "seq") public var seq: Int
    @Field(key: "type") public var type: String
    @Field(key: "payload") public var payload: String
    @Field(key: "created_at") public var createdAt: Double

    public init() {}

    public init(jobID: UUID, owner: String, seq: Int, type: String, payload: String, now: Double) {
        self.id = UUID()
        self.jobID = jobID
        self.owner = owner
        self.seq = seq
        self.type = type
        self.payload = payload
        self.createdAt = now
    }

    /// Stores the row in one raw statement (Fluent's `create` reflects over the model's fields on every call).
    func insert(on database: any Database) async throws {
        try await database.sql.raw(
            """
            INSERT INTO job_events (id, job_id, owner, seq, type, payload, created_at)
            VALUES (\(bind: id ?? UUID()), \(bind: jobID), \(bind: owner), \(bind: seq), \(bind: type), \(bind: payload), \(bind: createdAt))
            """
        ).run()
    }
}
