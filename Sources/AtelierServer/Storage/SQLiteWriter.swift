import Fluent
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The connection every SQLite write transaction of the app runs on, and the one thread that runs both its SQLite
/// calls and the transaction's Swift code.
///
/// Through the shared pool, each statement of a transaction cost two thread wakes: the task handed it to a thread
/// of SQLiteNIO's pool, which ran it and resumed the task on a thread of Swift's global executor. A transaction of
/// eleven statements, its connection checkout and its `BEGIN`/`COMMIT` futures crossed threads about thirty times
/// (bench/README, "The SQLite write path on one thread"). Here the connection's thread pool has one thread, and that
/// thread is also the task executor the transaction prefers (`thread`): when a statement's task suspends, the
/// thread takes the statement from its queue, runs it and resumes the task in its next turn of the same loop,
/// without waking anything. The connection is checked out once and kept (its pool holds only it).
///
/// Transactions take turns in the app's `SQLiteWriteQueue` before they touch it, so it is never shared. Reads and
/// writes outside a transaction use the app's pooled connections as before.
final class SQLiteWriter: Sendable {
    let thread: SQLiteWriterThread
    private let driver: any DatabaseDriver
    private let configuration: any DatabaseConfiguration
    private let eventLoop: any EventLoop
    private let held = NIOLockedValueBox<Held?>(nil)

    private struct Held {
        let database: any Database
        let release: EventLoopPromise<Void>
        /// Completes once the pool has the connection back (it closes only connections it has).
        let returned: EventLoopFuture<Void>
    }

    init(configuration: any DatabaseConfiguration, eventLoopGroup: any EventLoopGroup) {
        thread = SQLiteWriterThread()
        self.configuration = configuration
        eventLoop = eventLoopGroup.next()
        driver = configuration.makeDriver(for: Databases(threadPool: thread.pool, on: eventLoopGroup))
    }

    /// The writer's connection, as a Fluent database bound to it; checked out of its pool the first time.
    /// Called only by the transaction holding the write queue's turn.
    func connection(logger: Logger) async throws -> any Database {
        if let held = held.withLockedValue({ $0 }) { return held.database }
        let database = driver.makeDatabase(with: DatabaseContext(configuration: configuration, logger: logger, eventLoop: eventLoop))
        let checkedOut = eventLoop.makePromise(of: (any Database).self)
        let release = eventLoop.makePromise(of: Void.self)
        let returned = database.withConnection { connection in
            checkedOut.succeed(connection)
            return release.futureResult
        }
        returned.whenFailure {
            // No connection (the pool is shutting down): `release` was never handed out; completed so that NIO's
            // leak check (debug builds) does not stop the process.
            release.succeed(())
            checkedOut.fail($0)
        }
        let connection = try await checkedOut.futureResult.get()
        held.withLockedValue { $0 = Held(database: connection, release: release, returned: returned) }
        return connection
    }

    func shutdown() {
        if let returned = returnConnection(), !eventLoop.inEventLoop { try? returned.wait() }
        driver.shutdown()
        try? thread.pool.syncShutdownGracefully()
    }

    func shutdownAsync() async {
        try? await returnConnection()?.get()
        await driver.shutdownAsync()
        try? await thread.pool.shutdownGracefully()
    }

    /// Gives the kept connection back to its pool, so that the pool's shutdown closes it.
    private func returnConnection() -> EventLoopFuture<Void>? {
        held.withLockedValue { held in
            defer { held = nil }
            held?.release.succeed()
            return held?.returned
        }
    }
}

/// A thread that is both the writer connection's SQLite thread pool (of one thread) and a task executor: a task
/// preferring it runs its jobs in the same queue as the SQLite calls it waits for.
final class SQLiteWriterThread: TaskExecutor {
    let pool: NIOThreadPool

    init() {
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // Run even when the pool has stopped (it then calls at once, on this thread): a task is never dropped.
        pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

extension Database {
    /// `work` in a transaction of its own; on SQLite on the writer's connection and thread, without the Task and
    /// the futures Fluent's `transaction` puts around it.
    func writeTransaction<T: Sendable>(_ work: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        if let sqlite = self as? ImmediateSQLiteDatabase { return try await sqlite.immediateTransaction(work) }
        return try await transaction(work)
    }

    /// The executor a task that mostly writes should prefer: SQLite's writer thread; nil (no preference) elsewhere.
    var writeExecutor: (any TaskExecutor)? { (self as? ImmediateSQLiteDatabase)?.writer.thread }
}
