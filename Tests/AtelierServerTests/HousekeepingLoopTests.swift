import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Housekeeping as its own loop (run by `serve` and `worker` as a service): it expires the leases of dead workers
/// without any job worker running, runs the minute's chores when due, and ends when its task is canceled.
@Suite struct HousekeepingLoopTests {
    @Test func theLoopRequeuesADeadWorkersJobWithNoWorkerRunningAndStopsWhenCanceled() async throws {
        let clock = ManualClock()
        let config = try AtelierConfig.testing(leaseSeconds: 30)
        try await withTestApp(config, overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let id = try await app.enqueueGenerate(["prompt": "its worker died"])
            let claimed = try #require(try await app.makeJobWorker().context.queue.claim(workerID: "dead-worker"))
            #expect(claimed.id == UUID(uuidString: id))
            let loop = app.makeHousekeepingLoop(leaseCheckSeconds: 0.05)
            let running = Task { await loop.run() }
            clock.advance(by: 31)
            let deadline = ContinuousClock.now + .seconds(30)
            while try await app.jobRecord(id).status != "queued" && ContinuousClock.now < deadline { await Task.yield() }
            let requeued = try await app.jobRecord(id)
            #expect(requeued.status == "queued")
            #expect(requeued.leaseOwner == nil)
            running.cancel()
            await running.value  // ends: graceful shutdown cancels the service's task
        }
    }

    @Test func theChoresRunOnceAMinuteTheFirstAMinuteAfterStart() async throws {
        let clock = ManualClock()
        try await withTestApp(try .testing(), overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let housekeeping = app.makeHousekeepingLoop().housekeeping
            #expect(!housekeeping.choresDue())
            clock.advance(by: 59)
            #expect(!housekeeping.choresDue())
            clock.advance(by: 1)
            #expect(housekeeping.choresDue())
            #expect(!housekeeping.choresDue())
            clock.advance(by: 60)
            #expect(housekeeping.choresDue())
        }
    }
}
