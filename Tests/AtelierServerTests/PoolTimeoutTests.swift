@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// A request that finds every database connection busy for the pool's whole wait gets 503 `busy` with
/// Retry-After and nothing internal, and the same request succeeds once connections are free again.
/// On SQLite in both lanes: both drivers' pools are AsyncKit's (the same `ConnectionPoolTimeoutError`), and on the
/// PostgreSQL lane other suites' NOTIFYs reach this app's event relay, which borrows a pool connection for a moment
/// and could hand it to the request.
@Suite struct PoolTimeoutTests {
    @Test func aRequestWhileEveryConnectionIsHeldIsA503BusyWithRetryAfter() async throws {
        let config = try AtelierConfig.testing(database: .sqliteMemory)
        try await withTestApp(config, overrides: .init(databasePoolTimeout: .milliseconds(300))) { app in
            let hog = ConnectionHog()
            try await hog.takeEveryConnection(app)
            #expect(await hog.held > 0)
            let busy = try await app.send(.GET, "v1/jobs")
            await hog.release()
            #expect(busy.status == .serviceUnavailable)
            #expect(busy.headers.first(name: .retryAfter) == "2")
            let error = busy.json["error"] as? [String: Any] ?? [:]
            #expect(error["code"] as? String == "busy")
            let message = error["message"] as? String ?? ""
            #expect(message.contains("retry") && !message.localizedCaseInsensitiveContains("pool"), "\(message)")
            #expect(!busy.body.string.contains("ConnectionPool"))
            #expect(try await app.send(.GET, "v1/jobs").status == .ok)
        }
    }
}

/// Holds database connections until `release()`: on every event loop's pool it takes one connection after
/// another until the pool refuses the next (its wait ran out), so the pool is known to be empty, with no timing.
actor ConnectionHog {
    private(set) var held = 0
    private var isReleased = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var holders: [Task<Void, Never>] = []

    func takeEveryConnection(_ app: Application) async throws {
        for loop in app.eventLoopGroup.makeIterator() {
            let database = try #require(app.databases.database(logger: app.logger, on: loop))
            while try await take(database) {}
        }
    }

    /// True when a connection was taken and is now held; false when the pool had none left.
    private func take(_ database: any Database) async throws -> Bool {
        let (outcome, report) = AsyncStream.makeStream(of: Result<Void, any Error>.self)
        holders.append(
            Task {
                do {
                    try await database.withConnection { _ in
                        report.yield(.success(()))
                        await self.waitForRelease()
                    }
                } catch { report.yield(.failure(error)) }
            })
        for await result in outcome {
            switch result {
            case .success:
                held += 1
                return true
            case .failure(let error):
                guard error is ConnectionPoolTimeoutError else { throw error }
                return false
            }
        }
        return false
    }

    private func waitForRelease() async {
        if isReleased { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() async {
        isReleased = true
        for waiter in waiters { waiter.resume() }
        waiters = []
        for holder in holders { await holder.value }
    }
}
