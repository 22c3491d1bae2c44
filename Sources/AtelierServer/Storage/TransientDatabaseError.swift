import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation

/// A database failure the caller can do nothing about but try again: the upstream gate's statements failing while
/// a job is admitted, any driver error inside the admission transaction (which then stored nothing: its savepoint
/// or transaction rolled back), or a failure of a transient kind anywhere (`isTransient`). Answered like an
/// exhausted pool: 503 `busy` with Retry-After (`APIErrorMiddleware`); what failed goes to the log under a
/// reference, never to the caller.
struct TransientDatabaseError: Error, CustomStringConvertible {
    /// What was being done ("the upstream gate", "admission").
    let during: String
    let underlying: any Error

    var description: String { "\(during): \(String(reflecting: underlying))" }

    /// `error` as a transient failure when the database driver raised it; anything else (a refusal, a validation
    /// error, cancellation) is returned unchanged.
    static func wrapping(_ error: any Error, during: String) -> any Error {
        guard error is SQLiteError || error is PSQLError || error is PostgresError else { return error }
        return TransientDatabaseError(during: during, underlying: error)
    }

    /// Driver errors that say "not now" rather than "never": SQLite busy, locked, I/O, interrupted or out of
    /// memory; PostgreSQL's connection lost, or SQLSTATE classes 08 (connection), 40 (serialization failure,
    /// deadlock), 53 (insufficient resources), 57 (operator intervention, statement timeout) and 55P03 (lock not
    /// available).
    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case is TransientDatabaseError:
            return true
        case let error as SQLiteError:
            let reason = "\(error.reason)"
            return ["busy", "locked", "ioError", "interrupt", "noMemory"].contains { reason.hasPrefix($0) }
        case let error as PSQLError:
            if [.serverClosedConnection, .connectionError, .uncleanShutdown].contains(error.code) { return true }
            guard let state = error.serverInfo?[.sqlState] else { return false }
            return ["08", "40", "53", "57"].contains { state.hasPrefix($0) } || state == "55P03"
        default:
            return false
        }
    }

    /// Failures a paid-for job's success commit is tried again after (`SuccessCommit`): the transient ones, an
    /// exhausted pool, and SQLite's disk full (`SQLITE_FULL`). A full disk passes once space is freed, and the job's
    /// images and cost are worth the wait: failing the job would lose what was paid for. (Elsewhere a full disk stays
    /// an error its caller sees, 500 with a reference: nothing was paid for yet, and an operator must act.)
    static func isRetryableCommitFailure(_ error: any Error) -> Bool {
        if isTransient(error) || error is ConnectionPoolTimeoutError { return true }
        guard let error = error as? SQLiteError else { return false }
        return "\(error.reason)" == "full"
    }

    /// The metric's label: the driver's reason or SQLSTATE, never a message.
    static func metricReason(of error: any Error) -> String {
        switch error {
        case let error as TransientDatabaseError: return metricReason(of: error.underlying)
        case let error as SQLiteError: return "sqlite_\(error.reason)"
        case let error as PSQLError: return error.serverInfo?[.sqlState].map { "sqlstate_\($0)" } ?? "connection"
        default: return "other"
        }
    }
}
