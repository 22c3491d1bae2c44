/// What a job does.
public enum JobKind: String, Codable, Sendable, CaseIterable {
    case generate, edit
    case autoMask = "mask"
}

/// A job's lifecycle: queued → running → succeeded | failed | canceled (running may go back to queued on retry).
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, canceled

    public var isFinished: Bool { self == .succeeded || self == .failed || self == .canceled }
}
