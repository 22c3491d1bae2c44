import Fluent
import NIOCore
import SQLKit

/// SQLite with every transaction begun IMMEDIATE. Fluent's SQLite driver begins them DEFERRED: such a transaction
/// that reads and then writes fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT; the busy handler
/// is not asked) when another connection committed a write after its read. Begun IMMEDIATE, it takes the write
/// lock first, so a second writer waits for the first instead. Every Atelier transaction writes, so taking the
/// lock first costs nothing but the wait it should have had anyway.
///
/// Fluent hard-codes `BEGIN TRANSACTION`, so this wraps its database and runs transactions itself: on one pooled
/// connection, `BEGIN IMMEDIATE`, the work, then `COMMIT` (or `ROLLBACK` when the work or the commit failed), and
/// nothing else (the driver's deferred BEGIN, ended at once to begin an IMMEDIATE one, cost two more statements,
/// each a hop to SQLite's thread pool, per transaction). Everything else goes straight to the driver.
///
/// The transactions of one app, and its writes outside a transaction, wait their turn in its `SQLiteWriteQueue`.
/// Transactions then run on the app's `SQLiteWriter`: one connection, and one thread for its SQLite calls and the
/// transaction's own code.
struct ImmediateSQLiteConfiguration: DatabaseConfiguration {
    var base: any DatabaseConfiguration
    var queueTimeout: TimeAmount
    var middleware: [any AnyModelMiddleware] {
        get { base.middleware }
        set { base.middleware = newValue }
    }

    func makeDriver(for databases: Databases) -> any DatabaseDriver {
        Driver(
            base: base.makeDriver(for: databases), queue: SQLiteWriteQueue(timeout: queueTimeout),
            writer: SQLiteWriter(configuration: base, eventLoopGroup: databases.eventLoopGroup))
    }

    struct Driver: DatabaseDriver {
        let base: any DatabaseDriver
        let queue: SQLiteWriteQueue
        let writer: SQLiteWriter
        func makeDatabase(with context: DatabaseContext) -> any Database {
            ImmediateSQLiteDatabase(base: base.makeDatabase(with: context), queue: queue, writer: writer)
        }
        func shutdown() {
            writer.shutdown()
            base.shutdown()
        }
        func shutdownAsync() async {
            await writer.shutdownAsync()
            await base.shutdownAsync()
        }
    }
}

extension DatabaseConfigurationFactory {
    /// `factory`'s SQLite database with IMMEDIATE transactions, one at a time (`ImmediateSQLiteConfiguration`);
    /// a transaction waits at most `queueTimeout` for its turn.
    static func immediateTransactions(_ factory: DatabaseConfigurationFactory, queueTimeout: TimeAmount) -> DatabaseConfigurationFactory {
        .init { ImmediateSQLiteConfiguration(base: factory.make(), queueTimeout: queueTimeout) }
    }
}

struct ImmediateSQLiteDatabase: Database, SQLDatabase {
    let base: any Database
    let queue: SQLiteWriteQueue
    let writer: SQLiteWriter
    /// True for the connection a transaction of this wrapper runs on (between its BEGIN IMMEDIATE and its end).
    var inOwnTransaction = false
    private var sql: any SQLDatabase { base as! any SQLDatabase }

    var context: DatabaseContext { base.context }
    var inTransaction: Bool { inOwnTransaction || base.inTransaction }

    func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> Void) -> EventLoopFuture<Void> {
        switch query.action {
        case .read, .aggregate: return base.execute(query: query, onOutput: onOutput)
        case _ where inTransaction: return base.execute(query: query, onOutput: onOutput)
        default: return queue.run(on: base.eventLoop) { base.execute(query: query, onOutput: onOutput) }
        }
    }
    func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> { base.execute(schema: schema) }
    func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> { base.execute(enum: `enum`) }

    func transaction<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        // Nested: the outer transaction already began (IMMEDIATE, when it began here).
        if inOwnTransaction { return closure(self) }
        guard !base.inTransaction else { return base.transaction(closure) }
        return base.eventLoop.makeFutureWithTask { try await immediateTransaction { try await closure($0).get() } }
    }

    /// A transaction on the writer's connection, its code on the writer's thread (`SQLiteWriter`), after its turn
    /// in the queue: `BEGIN IMMEDIATE`, `work`, then `COMMIT` (or `ROLLBACK` when the work or the commit failed).
    /// `work`'s value is returned only once `COMMIT` returned.
    func immediateTransaction<T>(_ work: @Sendable (any Database) async throws -> T) async throws -> T {
        if inOwnTransaction { return try await work(self) }
        return try await onWriter { [queue, writer] connection in
            let db = ImmediateSQLiteDatabase(base: connection, queue: queue, writer: writer, inOwnTransaction: true)
            let sql = connection as! any SQLDatabase
            try await sql.raw("BEGIN IMMEDIATE").run()
            do {
                let value = try await work(db)
                try await sql.raw("COMMIT").run()
                return value
            } catch {
                // The ROLLBACK's own error (a failed COMMIT may have ended the transaction) is not the news.
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// `work` with the write queue's turn, on the writer's connection and thread.
    private func onWriter<T>(_ work: (any Database) async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(writer.thread) {
            try await queue.withTurn(on: base.eventLoop) { try await work(try await writer.connection(logger: base.logger)) }
        }
    }

    func withConnection<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        base.withConnection { [queue, writer, inOwnTransaction] in
            closure(ImmediateSQLiteDatabase(base: $0, queue: queue, writer: writer, inOwnTransaction: inOwnTransaction))
        }
    }

    // SQLDatabase: the driver's.
    var logger: Logger { sql.logger }
    var eventLoop: any EventLoop { sql.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { sql.version }
    var dialect: any SQLDialect { sql.dialect }
    var queryLogLevel: Logger.Level? { sql.queryLogLevel }
    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        guard writesOutsideATransaction(query) else { return sql.execute(sql: query, onRow) }
        return queue.run(on: eventLoop) { [sql] in sql.execute(sql: query, onRow) }
    }
    /// A raw write on its own (the requests-per-minute batch) runs on the writer too.
    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        guard writesOutsideATransaction(query) else { return try await sql.execute(sql: query, onRow) }
        try await onWriter { try await $0.sql.execute(sql: query, onRow) }
    }

    /// A statement that may write, run on its own (autocommit): it waits its turn in the queue like a transaction,
    /// since it needs the same write lock. Reads (`SELECT`, `PRAGMA`, `EXPLAIN`) never wait: WAL lets them run
    /// beside the writer. Statements inside a transaction run under the transaction's turn.
    private func writesOutsideATransaction(_ query: any SQLExpression) -> Bool {
        guard !inTransaction else { return false }
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        let verb = serializer.sql.drop { $0.isWhitespace || $0 == "(" }.prefix(7).uppercased()
        return !(verb.hasPrefix("SELECT") || verb.hasPrefix("PRAGMA") || verb.hasPrefix("EXPLAIN"))
    }
    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await sql.withSession(closure)
    }
}
