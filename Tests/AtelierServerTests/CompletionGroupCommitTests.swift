import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import SQLKit
import Testing
import Vapor

/// Group commit of successes (`JobLifecycle.completions`): jobs that succeed while a commit is in flight share the
/// next transaction, and each keeps its own outcome: a lost lease answers nil, a failing member is rolled back alone.
/// The first group is held open until the others wait, so the groups are known without timing.
@Suite struct CompletionGroupCommitTests {
    struct Fault: Error {}

    @Test func twentySuccessesShareTwoCommitsAndAFailingMemberRollsBackAlone() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            // setup: 20 running jobs leased to the harness's worker, one queued job (no lease), one group held
            let harness = JobLifecycleHarness(app: app, clock: clock)
            var running: [UUID] = []
            for _ in 0..<20 { running.append(try await harness.job(in: .running)) }
            let unleased = try await harness.job(in: .queued)
            let completions = app.atelier.completions
            let before = await completions.commits
            let (held, holding) = AsyncStream.makeStream(of: Void.self)
            await completions.setHooks(beforeBegin: { size in
                guard await completions.commits == before else { return }
                holding.yield()
                await completions.untilWaiting(21 - size)
            })
            var faulty = harness
            faulty.faultAfter = { if $0 == .moneyMoved { throw Fault() } }
            let (grouped, failing) = (Self.grouped(harness.lifecycle, completions), Self.grouped(faulty.lifecycle, completions))
            let jobs = running
            // MUT: 19 successes, one that fails after moving money, one whose lease is not held
            let outcomes = await withTaskGroup(of: (UUID, String).self) { group in
                // The first group is one success, held before its transaction until the other 20 wait: they are the
                // second group, whatever the order the tasks start in.
                group.addTask { (jobs[1], await Self.succeed(jobs[1], grouped)) }
                for await _ in held { break }
                for (index, jobID) in jobs.enumerated() where index != 1 {
                    let lifecycle = index == 0 ? failing : grouped
                    group.addTask { (jobID, await Self.succeed(jobID, lifecycle)) }
                }
                group.addTask { (unleased, await Self.succeed(unleased, grouped)) }
                return await group.reduce(into: [UUID: String]()) { $0[$1.0] = $1.1 }
            }
            // validate: two transactions for 21 members; each its own outcome, nothing half-written
            #expect(await completions.commits - before == 2)
            #expect(outcomes[running[0]] == "error")
            #expect(outcomes[unleased] == "nil")
            #expect(running.dropFirst().allSatisfy { outcomes[$0] == "published" })
            #expect(try await harness.snapshot(running[0]).status == "running", "the failed member rolled back alone")
            #expect(try await harness.snapshot(running[0]).ledger == "reserved")
            for jobID in running.dropFirst() {
                let after = try await harness.snapshot(jobID)
                #expect(after.status == "succeeded" && after.ledger == "settled" && after.lastEventSeq == after.seq, "\(after)")
            }
        }
    }

    private static func grouped(_ lifecycle: JobLifecycle, _ completions: GroupCommit<JobLifecycle.Published?>) -> JobLifecycle {
        var lifecycle = lifecycle
        lifecycle.completions = completions
        return lifecycle
    }

    private static func succeed(_ jobID: UUID, _ lifecycle: JobLifecycle) async -> String {
        let result = JobResultInfo(size: "1024x1024", quality: "low", background: "opaque", outputFormat: "png")
        let outcome = JobOutcome(images: [], usage: FakeImageProvider.defaultUsage, requestID: "req_1", result: result)
        do {
            let published = try await lifecycle.succeed(
                jobID, kind: .generate, workerID: JobLifecycleHarness.worker,
                with: .init(outcome: outcome, costNano: 30_000_000, upstreamKey: "default"))
            return published == nil ? "nil" : "published"
        } catch { return "error" }
    }
}
