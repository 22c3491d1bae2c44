import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing

/// Every (state, transition) pair of the job state machine, on SQLite and (with TEST_DATABASE_URL) PostgreSQL:
/// allowed pairs land in the expected state with money and events to match, refused ones change nothing.
@Suite struct JobLifecycleTableTests {
    /// Where each transition takes a job in each state; a missing entry means the transition is refused.
    static let allowed: [Transition: [JobStatus: JobStatus?]] = [
        .claim: [.queued: .running],
        .heartbeat: [.running: .running],
        .succeed: [.running: .succeeded],
        .fail: [.running: .failed],
        .endCanceled: [.running: .canceled],
        .retryLater: [.running: .queued],
        .waitForRoom: [.running: .queued],
        .abandon: [.running: .queued],
        .cancel: [.queued: .canceled, .running: .running],
        .retry: [.failed: .queued, .canceled: .queued],
        .delete: [.succeeded: nil, .failed: nil, .canceled: nil],
        .expireLease: [.running: .queued],
        .purge: [.succeeded: nil, .failed: nil, .canceled: nil],
    ]

    /// What the ledger row says for a job in each state (no attempt was charged here).
    static let money: [JobStatus: String] = [
        .queued: "reserved", .running: "reserved", .succeeded: "settled", .failed: "released", .canceled: "released",
    ]

    @Test(arguments: JobStatus.allCases)
    func everyTransitionFrom(_ state: JobStatus) async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let harness = JobLifecycleHarness(app: app, clock: clock)
            for transition in Transition.allCases {
                let jobID = try await harness.job(in: state)
                let before = try await harness.snapshot(jobID)
                #expect(before.status == state.rawValue)
                let applied = try await transition.apply(jobID, harness)
                let after = try await harness.snapshot(jobID)
                let pair = "\(state.rawValue) --\(transition.rawValue)-->"
                guard let target = Self.allowed[transition]?[state] else {
                    #expect(!applied, "\(pair) must be refused")
                    #expect(after == before, "\(pair) refused but changed \(before) into \(after)")
                    continue
                }
                #expect(applied, "\(pair) must apply")
                guard let target else {
                    #expect(after.status == nil && after.events == 0, "\(pair) must remove the job and its events: \(after)")
                    continue
                }
                #expect(after.status == target.rawValue, "\(pair) \(target.rawValue) expected: \(after)")
                #expect(after.ledger == Self.money[target], "\(pair) money: \(after)")
                if transition == .claim {
                    // The claim takes the seq of `job.running`, which the runner stores once the model may run.
                    #expect(after.seq == before.seq.map { $0 + 1 } && after.events == before.events)
                } else if target != state {
                    #expect(after.events == before.events + 1, "\(pair) stores one event: \(after)")
                    #expect(after.lastEventSeq == after.seq, "\(pair) event seq: \(after)")
                }
            }
        }
    }

    @Test func anUnknownStatusInARowIsAnErrorNamingTheRow() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let harness = JobLifecycleHarness(app: app, clock: ManualClock())
            let jobID = try await harness.job(in: .queued)
            try await app.db.sql.raw("UPDATE jobs SET kind = 'sketch' WHERE id = \(bind: jobID)").run()
            let job = try #require(try await JobRecord.find(jobID, on: app.db))
            let error = try #require(throws: StoredValueError.self) { try JobKind(row: job) }
            #expect("\(error)".contains(jobID.uuidString.lowercased()) && "\(error)".contains("'sketch'"))
        }
    }
}
