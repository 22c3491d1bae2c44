import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing

/// A transition interrupted between its steps (as if the process died there) leaves no half state: status, money
/// and event are all there or none is.
@Suite struct JobLifecycleFaultTests {
    struct Killed: Error {}

    /// Transitions that move money and store an event, from the state where each applies.
    static let cases: [(JobStatus, Transition)] = [
        (.queued, .cancel), (.running, .succeed), (.running, .fail), (.running, .endCanceled), (.running, .retryLater),
        (.running, .waitForRoom), (.running, .abandon), (.failed, .retry), (.running, .expireLease), (.canceled, .delete),
    ]

    @Test(arguments: JobLifecycle.Step.allCases)
    func aTransitionKilledAfterAStepLeavesNoHalfState(_ step: JobLifecycle.Step) async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let plain = JobLifecycleHarness(app: app, clock: clock)
            var killing = plain
            killing.faultAfter = { if $0 == step { throw Killed() } }
            for (state, transition) in Self.cases where transition != .delete || step == .rowWritten {
                let jobID = try await plain.job(in: state)
                let before = try await plain.snapshot(jobID)
                let reached = await #expect(throws: (any Error).self) { _ = try await transition.apply(jobID, killing) }
                if reached != nil {
                    #expect(try await plain.snapshot(jobID) == before, "\(transition.rawValue) killed after \(step)")
                }
                // Run again without the fault, it completes as if never interrupted.
                #expect(try await transition.apply(jobID, plain), "\(transition.rawValue) after the restart")
            }
        }
    }

    @Test func anEnqueueKilledAfterAStepLeavesNoJob() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            for step in JobLifecycle.Step.allCases {
                var killing = JobLifecycleHarness(app: app, clock: clock)
                killing.faultAfter = { if $0 == step { throw Killed() } }
                await #expect(throws: Killed.self) { _ = try await killing.job(in: .queued, owner: "killed") }
            }
            let jobs = try await JobRecord.query(on: app.db).count()
            let ledger = try await app.db.sql.raw("SELECT job_id FROM spend_ledger").all()
            let events = try await JobEventRecord.query(on: app.db).count()
            #expect(jobs == 0 && ledger.isEmpty && events == 0)
        }
    }
}
