import AsyncKit
@testable import AtelierServer
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// `SQLiteWriteQueue`: one transaction at a time, in arrival order, a waiter failing like an exhausted pool when
/// its turn does not come in time. Each step is forced by the test (a transaction ends when its promise is
/// completed), not by timing.
@Suite struct SQLiteWriteQueueTests {
    private let loop = MultiThreadedEventLoopGroup.singleton.any()

    @Test func transactionsRunOneAtATimeInArrivalOrder() async throws {
        let queue = SQLiteWriteQueue(timeout: .seconds(60))
        let log = NIOLockedValueBox<[String]>([])
        let ends = (0..<3).map { _ in loop.makePromise(of: Void.self) }
        let runs = (0..<3).map { index in
            queue.run(on: loop) {
                log.withLockedValue { $0.append("start \(index)") }
                return ends[index].futureResult.map { log.withLockedValue { $0.append("end \(index)") } }
            }
        }
        try await loop.submit {}.get()  // the first has started; the others wait
        #expect(log.withLockedValue { $0 } == ["start 0"])
        ends[2].succeed()  // the third may not start before the second, however soon it would end
        ends[0].succeed()
        try await runs[0].get()
        ends[1].succeed()
        try await runs[1].get()
        try await runs[2].get()
        #expect(log.withLockedValue { $0 } == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"])
    }

    @Test func aFailedTransactionPassesTheTurnOn() async throws {
        struct Refused: Error {}
        let queue = SQLiteWriteQueue(timeout: .seconds(60))
        let first = queue.run(on: loop) { loop.makeFailedFuture(Refused()) as EventLoopFuture<Void> }
        let second = queue.run(on: loop) { loop.makeSucceededFuture(7) }
        await #expect(throws: Refused.self) { try await first.get() }
        #expect(try await second.get() == 7)
    }

    @Test func aWaiterWhoseTurnDoesNotComeFailsLikeAnExhaustedPoolAndTheQueueGoesOn() async throws {
        let queue = SQLiteWriteQueue(timeout: .milliseconds(50))
        let holdEnd = loop.makePromise(of: Void.self)
        let holder = queue.run(on: loop) { holdEnd.futureResult }
        let started = NIOLockedValueBox(false)
        let waiter = queue.run(on: loop) { () -> EventLoopFuture<Void> in
            started.withLockedValue { $0 = true }
            return loop.makeSucceededVoidFuture()
        }
        await #expect(throws: ConnectionPoolTimeoutError.self) { try await waiter.get() }
        #expect(!started.withLockedValue { $0 }, "a waiter that gave up never runs")
        holdEnd.succeed()
        try await holder.get()
        #expect(try await queue.run(on: loop) { loop.makeSucceededFuture("next") }.get() == "next")
    }
}
