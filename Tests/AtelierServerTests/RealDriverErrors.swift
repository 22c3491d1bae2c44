import FluentSQLiteDriver
import Foundation
import SQLKit
import Synchronization
import Vapor

// Real driver errors to throw where a test needs a database failure, and a counter for faults armed once.

/// Counts the calls of a fault armed to fire once.
final class Shots: Sendable {
    private let calls = Mutex(0)
    /// True for the first call only.
    func first() -> Bool { next() == 1 }
    /// Counts a call; returns how many there were.
    func next() -> Int {
        calls.withLock { count in
            count += 1
            return count
        }
    }
    var count: Int { calls.withLock { $0 } }
    var fired: Bool { count > 0 }
}

/// Real errors of the SQLite driver, raised by SQLite itself on a scratch database file.
enum RealSQLiteError {
    /// `SQLITE_BUSY`: a second connection asks for the write lock another holds, with no busy wait.
    static func busy() async throws -> any Error {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("busy-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let holder = try await SQLiteConnection.open(storage: .file(path: path))
        let asker = try await SQLiteConnection.open(storage: .file(path: path))
        defer {
            Task {
                try? await holder.close()
                try? await asker.close()
            }
        }
        try await holder.query("BEGIN IMMEDIATE", [], { _ in })
        try await asker.query("PRAGMA busy_timeout = 0", [], { _ in })
        do { try await asker.query("BEGIN IMMEDIATE", [], { _ in }) } catch { return error }
        throw Unraised()
    }

    /// `SQLITE_CONSTRAINT`: a value inserted twice into a unique column.
    static func constraint() async throws -> any Error {
        let connection = try await SQLiteConnection.open(storage: .memory)
        defer { Task { try? await connection.close() } }
        try await connection.query("CREATE TABLE t (x INTEGER UNIQUE)", [], { _ in })
        try await connection.query("INSERT INTO t VALUES (1)", [], { _ in })
        do { try await connection.query("INSERT INTO t VALUES (1)", [], { _ in }) } catch { return error }
        throw Unraised()
    }

    /// `SQLITE_FULL`: a database allowed one page asked to hold a table.
    static func full() async throws -> any Error {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("full-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        defer { Task { try? await connection.close() } }
        try await connection.query("PRAGMA max_page_count = 1", [], { _ in })
        do { try await connection.query("CREATE TABLE t (x BLOB)", [], { _ in }) } catch { return error }
        throw Unraised()
    }

    struct Unraised: Error {}
}

/// A real error of the PostgreSQL driver with the SQLSTATE `state` (08006: connection failure), raised by the server.
enum RealPostgresError {
    static func raised(_ app: Application, state: String) async throws -> any Error {
        do {
            try await app.db.sql.raw(
                SQLQueryString("DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '\(unsafeRaw: state)'; END $$")
            ).run()
        } catch { return error }
        throw RealSQLiteError.Unraised()
    }
}
