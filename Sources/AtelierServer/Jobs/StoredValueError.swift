import AtelierCore
import Foundation

/// A row holds a value the code does not know (a newer version wrote it, or it was edited by hand): an error that
/// names the row, never a silent default.
struct StoredValueError: Error, CustomStringConvertible {
    var table: String
    var column: String
    var rowID: UUID?
    var value: String

    var description: String {
        "\(table).\(column) of row \(rowID?.uuidString.lowercased() ?? "?") holds the unknown value '\(value)'"
    }
}

extension JobStatus {
    /// The status of `job`'s row; throws `StoredValueError` for an unknown value.
    init(row job: JobRecord) throws {
        guard let status = JobStatus(rawValue: job.status) else {
            throw StoredValueError(table: "jobs", column: "status", rowID: job.id, value: job.status)
        }
        self = status
    }
}

extension JobKind {
    /// The kind of `job`'s row; throws `StoredValueError` for an unknown value.
    init(row job: JobRecord) throws {
        guard let kind = JobKind(rawValue: job.kind) else {
            throw StoredValueError(table: "jobs", column: "kind", rowID: job.id, value: job.kind)
        }
        self = kind
    }
}
