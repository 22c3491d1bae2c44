import Foundation

/// A published event as it travels to SSE clients: already-encoded JSON plus what filters need.
public struct JobEvent: Sendable, Equatable {
    public var jobID: UUID
    public var owner: String
    public var seq: Int
    public var type: String
    /// The `data:` JSON.
    public var payload: String
    public var createdAt: Double

    /// The SSE `id:` — job and per-job sequence number.
    public var eventID: String { "\(jobID.uuidString.lowercased()):\(seq)" }

    public var isTerminal: Bool {
        switch type {
        case "job.succeeded", "job.failed", "job.canceled": true
        default: false
        }
    }

    init(_ record: JobEventRecord) {
        self.init(
            jobID: record.jobID, owner: record.owner, seq: record.seq, type: record.type, payload: record.payload,
            createdAt: record.createdAt)
    }

    public init(jobID: UUID, owner: String, seq: Int, type: String, payload: String, createdAt: Double) {
        self.jobID = jobID
        self.owner = owner
        self.seq = seq
        self.type = type
        self.payload = payload
        self.createdAt = createdAt
    }

    /// Parses an SSE `Last-Event-ID` of the form `<job-id>:<seq>`.
    public static func parseEventID(_ text: String) -> (jobID: UUID, seq: Int)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let id = UUID(uuidString: String(parts[0])), let seq = Int(parts[1]) else { return nil }
        return (id, seq)
    }
}
