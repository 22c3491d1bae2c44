import Foundation
import Logging
import Synchronization

/// Every log line a test's logger wrote, so tests can assert that secrets never appear.
public final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public func append(_ line: String) { lines.withLock { $0.append(line) } }
    public var all: [String] { lines.withLock { $0 } }
    public var text: String { all.joined(separator: "\n") }
}

/// A log handler that writes level, message, metadata and source of every record to `CapturedLogs`.
public struct CapturingLogHandler: LogHandler {
    public let logs: CapturedLogs
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(logs: CapturedLogs) {
        self.logs = logs
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        logs.append("\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 }) \(event.source)")
    }
}
