import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// A compatible-route job whose worker died after calling the upstream is not run again: its only consumer was the
/// caller's request. It ends `interrupted`, charged its reservation, and the upstream is called once.
@Suite struct CompatInterruptedTests {
    @Test func anExpiredLeaseEndsACompatibleRouteJobInterruptedChargedAndNeverRunAgain() async throws {
        let clock = ManualClock()
        let provider = FakeImageProvider(script: [.hold(usage: FakeImageProvider.defaultUsage)])
        try await withTestApp(try .testing(leaseSeconds: 30), overrides: .init(provider: provider, clock: clock.clock)) { app in
            let (subscription, events) = await app.atelier.hub.subscribe(.init())
            let caller = Task {
                try await app.postJSON("v1/images/generations", ["prompt": "lost with its process", "size": "1024x1024"])
            }
            var iterator = events.makeAsyncIterator()
            let queued = try #require(await iterator.next())
            await app.atelier.hub.unsubscribe(subscription)
            let jobID = queued.jobID
            #expect(try await JobRecord.find(jobID, on: app.db)?.compatCaller == true)

            // A worker claims it, calls the upstream and stops heart-beating (its process was killed).
            let worker = app.makeJobWorker()
            let claimed = try #require(try await worker.context.queue.claim(workerID: "killed"))
            #expect(claimed.id == jobID)
            let killed = Task { await JobRunner(context: worker.context, workerID: "killed").run(claimed) { false } }
            await provider.waitUntilHolding()
            clock.advance(by: 31)
            let expired = try await app.lifecycle().expireLeases()
            #expect(expired.failed == [jobID] && expired.requeued.isEmpty)

            // The job ended interrupted, charged its estimate, and nothing runs it again.
            let job = try #require(try await JobRecord.find(jobID, on: app.db))
            #expect(job.status == "failed" && job.errorCode == "interrupted" && job.errorRetryable == false)
            #expect(job.costNano == job.estimatedCostNano && job.costNano != nil)
            let ledger = try await app.ledgerEntry(of: jobID)
            #expect(ledger.state == "settled" && ledger.settled == job.estimatedCostNano)
            #expect(try await worker.context.queue.claim(workerID: "next") == nil)
            let answer = try await caller.value
            #expect(answer.status == .badGateway, "\(answer.json)")

            // The killed worker's late answer cannot commit a second outcome.
            await provider.release()
            _ = await killed.value
            #expect(try await JobRecord.find(jobID, on: app.db)?.status == "failed")
            #expect(await provider.callCount == 1)
        }
    }
}
