import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Spend that cannot leak (issue 10, item 2): default caps, the kill switch stops claiming, cancel all queued,
/// cancels and failed attempts after the upstream started are charged, overruns are recorded.
@Suite struct SpendLeakTests {
    static var body: [String: Any] { ["prompt": "leak test", "model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024"] }
    static var withPartials: [String: Any] { body.merging(["partial_images": 2]) { $1 } }
    static var adminJSON: HTTPHeaders { ["Content-Type": "application/json"] }

    @Test func anOpenAIKeyWithoutAGlobalCapGetsTheDefaultCapsAndAWarning() throws {
        var problems: [String] = []
        let keyed = AtelierConfig.Access.fromEnvironment(["OPENAI_API_KEY": "sk-test"], problems: &problems)
        #expect(keyed.globalDailyCapNano == 20_000_000_000)
        #expect(keyed.defaultDailyCapNano == 5_000_000_000)
        #expect(keyed.spendWarning(spendsMoney: true)?.contains("default server-wide cap of $20/day") == true)
        let off = AtelierConfig.Access.fromEnvironment(
            ["OPENAI_API_KEY": "sk-test", "GLOBAL_DAILY_CAP_USD": "none", "DEFAULT_DAILY_CAP_USD": "none"], problems: &problems)
        #expect(off.globalDailyCapNano == nil && off.defaultDailyCapNano == nil)
        #expect(off.spendWarning(spendsMoney: true)?.contains("no server-wide daily spending cap") == true)
        let set = AtelierConfig.Access.fromEnvironment(["OPENAI_API_KEY": "sk-test", "GLOBAL_DAILY_CAP_USD": "250"], problems: &problems)
        #expect(set.globalDailyCapNano == 250_000_000_000 && set.spendWarning(spendsMoney: true) == nil)
        let offline = AtelierConfig.Access.fromEnvironment([:], problems: &problems)
        #expect(offline.globalDailyCapNano == nil && offline.defaultDailyCapNano == nil)
        #expect(problems.isEmpty, "\(problems)")
        _ = AtelierConfig.Access.fromEnvironment(["GLOBAL_DAILY_CAP_USD": "lots"], problems: &problems)
        #expect(problems.first?.contains("or none for no cap") == true)
    }

    @Test func aNewMemberIsHeldToTheDefaultDailyCap() async throws {
        var access = AtelierConfig.Access.accountsTesting
        access.defaultDailyCapNano = 1  // a billionth of a dollar: no priced job fits
        try await withAccountsApp(access: access) { app in
            let a = try await app.makeAccount("a@example.com")
            let refused = try await app.postJSON("v1/generate", Self.body, headers: a.bearer)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "spend_cap_reached")
        }
    }

    @Test func theKillSwitchStopsClaimingQueuedJobsAndRetries() async throws {
        let provider = FakeImageProvider(script: [.failure(.serverError(status: 503, message: "busy"))])
        try await withAccountsApp(provider: provider) { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com")
            let retrying = try #require(try await app.postJSON("v1/generate", Self.body, headers: a.bearer).json["id"] as? String)
            let worker = app.makeJobWorker()
            #expect(try await worker.processNext())  // attempt 1 fails retryably and is queued again
            let queued = try #require(try await app.postJSON("v1/generate", Self.body, headers: a.bearer).json["id"] as? String)
            // MUT
            _ = try await app.send(
                .PUT, "v1/admin/settings", headers: admin.bearer.merging(Self.adminJSON),
                body: ByteBuffer(string: #"{"kill_switch": true}"#))
            let claimedWhileOff = try await worker.processNext()
            // validate: neither the retry nor the queued job reached the upstream again
            #expect(claimedWhileOff == false)
            #expect(await provider.callCount == 1)
            for id in [retrying, queued] {
                #expect(try await app.send(.GET, "v1/jobs/\(id)", headers: a.bearer).json["status"] as? String == "queued")
            }
            _ = try await app.send(
                .PUT, "v1/admin/settings", headers: admin.bearer.merging(Self.adminJSON),
                body: ByteBuffer(string: #"{"kill_switch": false}"#))
            try await app.drainJobs(worker)
            #expect(await provider.callCount == 3)
        }
    }

    @Test func theKillSwitchFromTheEnvironmentStopsClaiming() async throws {
        let provider = FakeImageProvider()
        try await withAccountsApp(provider: provider) { app in
            let a = try await app.makeAccount("a@example.com")
            _ = try await app.postJSON("v1/generate", Self.body, headers: a.bearer)
            let forced = JobQueue(
                database: app.db, settings: app.atelier.config.worker, clock: app.atelier.clock, killSwitchForced: true)
            #expect(try await forced.claim(workerID: "w") == nil)
            #expect(await provider.callCount == 0)
        }
    }

    @Test func anAdminCancelsEveryQueuedJobAndTheirReservationsAreReleased() async throws {
        let provider = FakeImageProvider(script: [.hold(usage: FakeImageProvider.defaultUsage)])
        try await withAccountsApp(provider: provider) { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com"), b = try await app.makeAccount("b@example.com")
            let running = try #require(try await app.postJSON("v1/generate", Self.body, headers: a.bearer).json["id"] as? String)
            let worker = app.makeJobWorker()
            let task = Task { try await worker.processNext() }
            await provider.waitUntilHolding()
            var queued: [String] = []
            for account in [a, b, b] {
                queued.append(try #require(try await app.postJSON("v1/generate", Self.body, headers: account.bearer).json["id"] as? String))
            }
            #expect(try await app.send(.POST, "v1/admin/jobs/cancel-queued", headers: a.bearer).status == .notFound)
            // MUT
            let answer = try await app.send(.POST, "v1/admin/jobs/cancel-queued", headers: admin.bearer)
            await provider.release()
            _ = try await task.value
            // validate
            #expect(answer.json["canceled"] as? Int == 3)
            for (id, account) in zip(queued, [a, b, b]) {
                #expect(try await app.send(.GET, "v1/jobs/\(id)", headers: account.bearer).json["status"] as? String == "canceled")
            }
            #expect(try await app.count("jobs", where: "status", is: "canceled") == 3)
            #expect(try await app.send(.GET, "v1/jobs/\(running)", headers: a.bearer).json["status"] as? String == "succeeded")
            #expect(try await SpendCapTests.spent(app, owner: b.owner) == 0)
            #expect(try await app.count("spend_ledger", where: "state", is: "released") == 3)
            #expect(await provider.callCount == 1)
        }
    }

    @Test func aCancelAfterPartialPreviewsIsChargedTheReservationAndKeepsThePreviews() async throws {
        let provider = FakeImageProvider(script: [.partialsThenHold(usage: FakeImageProvider.defaultUsage)])
        try await withAccountsApp(provider: provider) { app in
            let a = try await app.makeAccount("a@example.com")
            let id = try #require(try await app.postJSON("v1/generate", Self.withPartials, headers: a.bearer).json["id"] as? String)
            let estimate = try await Self.estimate(app, id)
            let worker = app.makeJobWorker()
            let task = Task { try await worker.processNext() }
            await provider.waitUntilHolding()
            // MUT: the request marks the job; the worker's heartbeat then stops the running task (done here by hand)
            _ = try await app.send(.POST, "v1/jobs/\(id)/cancel", headers: a.bearer)
            task.cancel()
            _ = try await task.value
            // validate: what was shown (two previews) is what was paid for (the reservation), not released
            let job = try await app.send(.GET, "v1/jobs/\(id)", headers: a.bearer).json
            #expect(job["status"] as? String == "canceled")
            #expect((job["partials"] as? [[String: Any]])?.count == 2)
            #expect(try await SpendCapTests.spent(app, owner: a.owner) == estimate)
            #expect(try await Self.ledger(app, id).state == "settled")
            #expect(try await Self.ledger(app, id).settled == estimate)
        }
    }

    @Test func aCancelBeforeTheUpstreamStartedChargesNothing() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("a@example.com")
            let id = try #require(try await app.postJSON("v1/generate", Self.withPartials, headers: a.bearer).json["id"] as? String)
            _ = try await app.send(.POST, "v1/jobs/\(id)/cancel", headers: a.bearer)
            #expect(try await SpendCapTests.spent(app, owner: a.owner) == 0)
            #expect(try await Self.ledger(app, id).state == "released")
        }
    }

    @Test func eachAttemptThatReachedTheUpstreamIsCharged() async throws {
        let exact = Usage(inputTokens: 3, inputTextTokens: 3, outputTokens: 100, outputImageTokens: 100)
        let provider = FakeImageProvider(script: [
            .partialsThenFailure(.connection(message: "reset")), .failure(.serverError(status: 503, message: "busy")),
            .images(usage: exact),
        ])
        let clock = ManualClock()
        try await withAccountsApp(provider: provider, clock: clock.clock) { app in
            let a = try await app.makeAccount("a@example.com")
            let id = try #require(try await app.postJSON("v1/generate", Self.withPartials, headers: a.bearer).json["id"] as? String)
            let estimate = try await Self.estimate(app, id)
            let worker = app.makeJobWorker()
            for _ in 0..<3 {
                clock.advance(by: 600)
                #expect(try await worker.processNext())
            }
            let job = try await app.send(.GET, "v1/jobs/\(id)", headers: a.bearer).json
            #expect(job["status"] as? String == "succeeded")
            let cost = CostCalculator.nanoDollars(Decimal(3) * 2 / 1_000_000 + Decimal(100) * 8 / 1_000_000)
            // attempt 1 streamed previews then broke off: charged its reservation; attempt 2 failed before any
            // output: free; attempt 3 succeeded: its exact cost.
            #expect(try await SpendCapTests.spent(app, owner: a.owner) == estimate + cost)
            #expect(try await SpendCapTests.spent(app, owner: "*") == estimate + cost)
            #expect(try await Self.ledger(app, id).state == "settled")
            #expect(try await Self.ledger(app, id).settled == estimate + cost)
        }
    }

    @Test func aRetryThatWouldPassACapFailsInsteadOfRunningAgain() async throws {
        let provider = FakeImageProvider(script: [.partialsThenFailure(.connection(message: "reset"))])
        let clock = ManualClock()
        try await withAccountsApp(provider: provider, clock: clock.clock) { app in
            let a = try await app.makeAccount("a@example.com")
            let probe = try #require(try await app.postJSON("v1/generate", Self.withPartials, headers: a.bearer).json["id"] as? String)
            let estimate = try await Self.estimate(app, probe)
            _ = try await app.send(.POST, "v1/jobs/\(probe)/cancel", headers: a.bearer)
            a.user.dailyCapNano = estimate + estimate / 2
            try await a.user.update(on: app.db)
            let id = try #require(try await app.postJSON("v1/generate", Self.withPartials, headers: a.bearer).json["id"] as? String)
            // MUT
            #expect(try await app.makeJobWorker().processNext())
            // validate
            let job = try await app.send(.GET, "v1/jobs/\(id)", headers: a.bearer).json
            #expect(job["status"] as? String == "failed")
            #expect((job["error"] as? [String: Any])?["code"] as? String == "spend_cap_reached")
            #expect(try await SpendCapTests.spent(app, owner: a.owner) == estimate)
            #expect(try await Self.ledger(app, id).state == "settled")
            #expect(try await Self.ledger(app, id).settled == estimate)
            #expect(await provider.callCount == 1)
        }
    }

    @Test func settlingPastACapIsRecordedCountedAndShownToAdmins() async throws {
        // The upstream reports far more output than the estimate assumed.
        let huge = Usage(inputTokens: 10, inputTextTokens: 10, outputTokens: 400_000, outputImageTokens: 400_000)
        let provider = FakeImageProvider(script: [.images(usage: huge)])
        try await withAccountsApp(provider: provider) { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com")
            a.user.dailyCapNano = 1_000_000_000
            try await a.user.update(on: app.db)
            // MUT
            let job = try await app.finishedJob(as: a, Self.body)
            // validate: the money is spent (the cost is settled) and the overrun is on record
            #expect(job["status"] as? String == "succeeded")
            #expect(try await SpendCapTests.spent(app, owner: a.owner) > 1_000_000_000)
            let overruns = try await app.send(.GET, "v1/admin/spend/overruns", headers: admin.bearer).json["data"] as? [[String: Any]]
            #expect(overruns?.count == 1)
            #expect(overruns?.first?["subject"] as? String == a.owner)
            #expect(overruns?.first?["cap_usd"] as? Double == 1)
            let metrics = try await app.send(.GET, "v1/metrics", headers: admin.bearer).body.string
            #expect(metrics.contains(#"atelier_spend_cap_overruns_total{cap="daily"} 1"#))
        }
    }

    static func estimate(_ app: Application, _ id: String) async throws -> Int64 {
        let jobID = try #require(UUID(uuidString: id))
        return try #require(try await JobRecord.find(jobID, on: app.db)?.estimatedCostNano)
    }

    static func ledger(_ app: Application, _ id: String) async throws -> (state: String, settled: Int64?) {
        let jobID = try #require(UUID(uuidString: id))
        let row = try #require(
            try await (app.db as! any SQLDatabase).raw(
                "SELECT state, settled_nano FROM spend_ledger WHERE job_id = \(bind: jobID)"
            ).first())
        return (try row.decode(column: "state", as: String.self), try row.decode(column: "settled_nano", as: Int64?.self))
    }
}
