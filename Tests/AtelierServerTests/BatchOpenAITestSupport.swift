import AtelierCore
@testable import AtelierServer
import AtelierTesting
import AsyncHTTPClient
import Fluent
import Foundation
import OpenAIStandIn
import SQLKit
import Testing
import Vapor

/// An app whose upstream is the stand-in (its Files and Batch APIs), on a manual clock, with a batch runner that
/// the test steps by hand (`runBatch`).
struct OpenAIBatchHarness {
    let app: Application
    let standIn: StandInServer
    let clock: ManualClock
    let runner: OpenAIBatchRunner

    static func run(
        options: StandInOptions = StandInOptions(), perOwnerLimit: Int = 100, start: Double = 1_800_000_000,
        _ body: (OpenAIBatchHarness) async throws -> Void
    ) async throws {
        try await StandInServer.run(options: options) { standIn in
            let clock = ManualClock(start)
            let config = try AtelierConfig.testing(openAI: try UpstreamEndToEndTests.config(standIn).openAI, perOwnerLimit: perOwnerLimit)
            try await withTestApp(config, overrides: .init(clock: clock.clock)) { app in
                try await body(
                    OpenAIBatchHarness(app: app, standIn: standIn, clock: clock, runner: try #require(OpenAIBatchRunner(app: app))))
            }
        }
    }

    /// Creates an `openai_batch` batch from `body`; returns its id.
    func create(_ body: [String: Any]) async throws -> String {
        var body = body
        body["mode"] = "openai_batch"
        let created = try await app.postJSON("v1/batches", body)
        #expect(created.status == .created, "\(created.json)")
        #expect(created.json["status"] as? String == "queued")
        return try #require(created.json["id"] as? String)
    }

    /// Steps `runner` until the batch needs nothing more, moving the clock to each due time; returns the steps.
    @discardableResult
    func runBatch(_ id: String, runner: OpenAIBatchRunner? = nil, maxSteps: Int = 40) async throws -> Int {
        var steps = 0
        while let due = try await record(id).pollAfter, steps < maxSteps {
            if due > clock.now { clock.advance(by: due - clock.now) }
            #expect(try await (runner ?? self.runner).runNext())
            steps += 1
        }
        #expect(steps < maxSteps, "the batch never finished")
        return steps
    }

    /// Submits the batch and polls it twice: the OpenAI batch is then in progress with its first lines run
    /// (`StandInOptions.batchLinesPerPoll` of them).
    func submitAndRunFirstLines() async throws {
        #expect(try await runner.runNext())  // submitted
        clock.advance(by: OpenAIBatchRunner.firstPollDelay)
        #expect(try await runner.runNext())  // in progress
        clock.advance(by: OpenAIBatchRunner.pollDelay(attempt: 1))
        #expect(try await runner.runNext())  // the first lines ran
    }

    func record(_ id: String) async throws -> BatchRecord {
        try #require(try await BatchRecord.find(UUID(uuidString: id), on: app.db))
    }

    func batch(_ id: String) async throws -> [String: Any] { try await app.send(.GET, "v1/batches/\(id)").json }

    /// Image calls the stand-in ran (batch lines are recorded as the calls they are).
    func imageCalls() async throws -> [[String: Any]] {
        try await standIn.requests().filter { ($0["path"] as? String)?.hasPrefix("/v1/images/") == true }
    }

    /// Each succeeded job's cost is its usage at the batch price, exactly half the live price (`batch_discount`
    /// 0.5 in the registry); returns the sum in nano-dollars.
    func expectDiscountedCosts(_ id: String) async throws -> Int64 {
        let costs = app.atelier.costs
        var total: Int64 = 0
        let jobs = try await JobRecord.query(on: app.db).filter(\.$batchID == UUID(uuidString: id)).filter(\.$status == "succeeded").all()
        for job in jobs {
            let usage = try #require(job.usage)
            let discounted = try #require(costs.batchCost(of: usage, model: job.model))
            let full = try #require(costs.cost(of: usage, model: job.model))
            #expect(discounted * 2 == full)
            #expect(job.costNano == CostCalculator.nanoDollars(discounted))
            total += job.costNano ?? 0
        }
        return total
    }

    /// Spend ledger rows by state: every reservation settled or released, none left reserved.
    func ledgerStates() async throws -> [String: Int] {
        let rows = try await app.db.sql.raw("SELECT state, COUNT(*) AS n FROM spend_ledger GROUP BY state").all()
        var states: [String: Int] = [:]
        for row in rows { states[try row.decode(column: "state", as: String.self)] = try row.decode(column: "n", as: Int.self) }
        return states
    }
}

extension StandInServer {
    /// `POST /_standin/batches/{id}/expire`: the OpenAI batch's 24 h window ends now.
    func expireBatch(_ id: String) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/_standin/batches/\(id)/expire")
        request.method = .POST
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(response.status == .ok)
    }
}
