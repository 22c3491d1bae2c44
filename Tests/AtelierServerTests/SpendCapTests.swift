import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Cost governance: reservations against caps are atomic, settle to the exact cost, are released on failure;
/// the kill switch stops new jobs while running ones finish.
@Suite struct SpendCapTests {
    static var body: [String: Any] { ["prompt": "cap test", "model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024"] }
    static var params: ImageParameters {
        ImageParameters(prompt: "cap test", model: "gpt-image-1-mini", size: "1024x1024", quality: "low")
    }

    @Test func hundredConcurrentRequestsAgainstACapForTenJobsAcceptExactlyTen() async throws {
        // setup: a cap that fits 10 estimated jobs and a half
        let costs = CostCalculator(registry: try ModelRegistry.bundled())
        let usage = try #require(costs.estimatedUsage(for: Self.params))
        let estimate = CostCalculator.nanoDollars(try #require(costs.cost(of: usage, model: "gpt-image-1-mini")))
        let cap = estimate * 10 + estimate / 2
        let provider = FakeImageProvider(script: Array(repeating: .images(usage: usage), count: 20))
        try await withAccountsApp(provider: provider) { app in
            let a = try await app.makeAccount("a@example.com")
            a.user.dailyCapNano = cap
            try await a.user.update(on: app.db)
            // MUT
            let statuses = try await withThrowingTaskGroup(of: (UInt, String?).self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        let response = try await app.postJSON("v1/generate", Self.body, headers: a.bearer)
                        return (response.status.code, response.errorCode)
                    }
                }
                return try await group.reduce(into: [(UInt, String?)]()) { $0.append($1) }
            }
            // validate
            #expect(statuses.filter { $0.0 == 202 }.count == 10)
            #expect(
                statuses.filter { $0.0 == 429 && $0.1 == "spend_cap_reached" }.count == 90,
                "\(statuses.filter { $0.0 != 202 && $0.1 != "spend_cap_reached" })")
            let reserved = try await Self.spent(app, owner: a.owner)
            #expect(reserved == estimate * 10)
            #expect(reserved <= cap)
            try await app.drainJobs(app.makeJobWorker())
            let settled = try await (app.db as! any SQLDatabase).raw(
                "SELECT CAST(SUM(settled_nano) AS BIGINT) AS s FROM spend_ledger WHERE state = 'settled'"
            ).first()?.decode(column: "s", as: Int64.self)
            #expect(settled == estimate * 10)
            #expect(try await Self.spent(app, owner: a.owner) <= cap)
            #expect(await provider.callCount == 10)
        }
    }

    @Test func settlementUsesTheExactCostAndFailuresReleaseTheReservation() async throws {
        let exact = Usage(inputTokens: 3, inputTextTokens: 3, outputTokens: 100, outputImageTokens: 100)
        let provider = FakeImageProvider(script: [
            .images(usage: exact), .failure(.moderationBlocked(message: "no")),
        ])
        try await withAccountsApp(provider: provider) { app in
            let a = try await app.makeAccount("a@example.com")
            let succeeded = try await app.finishedJob(as: a, Self.body)
            let failed = try await app.finishedJob(as: a, Self.body.merging(["prompt": "blocked"]) { $1 })
            #expect(failed["status"] as? String == "failed")
            let expected = CostCalculator.nanoDollars(Decimal(3) * 2 / 1_000_000 + Decimal(100) * 8 / 1_000_000)
            #expect(try await Self.spent(app, owner: a.owner) == expected)
            let global = try await Self.spent(app, owner: "*")
            #expect(global == expected)
            let cost = try #require(succeeded["cost_usd"] as? Double)
            #expect(abs(cost - 0.000806) < 1e-12)
        }
    }

    @Test func theKillSwitchStopsNewJobsWhileRunningOnesFinish() async throws {
        let provider = FakeImageProvider(script: [.hold(usage: FakeImageProvider.defaultUsage)])
        try await withAccountsApp(provider: provider) { app in
            // setup: one job running
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com")
            let running = try await app.postJSON("v1/generate", Self.body, headers: a.bearer)
            let runningID = try #require(running.json["id"] as? String)
            let worker = app.makeJobWorker()
            let task = Task { try await worker.processNext() }
            await provider.waitUntilHolding()
            // MUT
            let flipped = try await app.send(
                .PUT, "v1/admin/settings", headers: admin.bearer.merging(["Content-Type": "application/json"]),
                body: ByteBuffer(string: #"{"kill_switch": true}"#))
            #expect(flipped.json["kill_switch"] as? Bool == true)
            let refused = try await app.postJSON("v1/generate", Self.body, headers: a.bearer)
            await provider.release()
            _ = try await task.value
            // validate
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorCode == "kill_switch")
            let finished = try await app.send(.GET, "v1/jobs/\(runningID)", headers: a.bearer).json
            #expect(finished["status"] as? String == "succeeded")
            _ = try await app.send(
                .PUT, "v1/admin/settings", headers: admin.bearer.merging(["Content-Type": "application/json"]),
                body: ByteBuffer(string: #"{"kill_switch": false}"#))
            #expect(try await app.postJSON("v1/generate", Self.body, headers: a.bearer).status == .accepted)
        }
    }

    @Test func theKillSwitchFromTheEnvironmentCannotBeTurnedOff() async throws {
        var access = AtelierConfig.Access.accountsTesting
        access.killSwitch = true
        try await withAccountsApp(access: access) { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            _ = try await app.send(
                .PUT, "v1/admin/settings", headers: admin.bearer.merging(["Content-Type": "application/json"]),
                body: ByteBuffer(string: #"{"kill_switch": false}"#))
            let settings = try await app.send(.GET, "v1/admin/settings", headers: admin.bearer).json
            #expect(settings["kill_switch_forced"] as? Bool == true)
            #expect(try await app.postJSON("v1/generate", Self.body, headers: admin.bearer).errorCode == "kill_switch")
            // An upload is refused before its body is read: this one is not even valid multipart.
            let edit = try await app.send(
                .POST, "v1/edit", headers: admin.bearer.merging(["Content-Type": "multipart/form-data; boundary=B"]),
                body: ByteBuffer(string: "not multipart at all"))
            #expect(edit.status == .serviceUnavailable)
            #expect(edit.errorCode == "kill_switch")
        }
    }

    static func spent(_ app: Application, owner: String) async throws -> Int64 {
        let day = SpendBudget.periods(at: app.atelier.clock.now()).day
        return try await (app.db as! any SQLDatabase).raw(
            "SELECT amount_nano FROM spend_periods WHERE subject = \(bind: owner) AND period = \(bind: day)"
        ).first()?.decode(column: "amount_nano", as: Int64.self) ?? 0
    }
}

extension HTTPHeaders {
    func merging(_ other: HTTPHeaders) -> HTTPHeaders {
        var copy = self
        for (name, value) in other { copy.replaceOrAdd(name: name, value: value) }
        return copy
    }
}
