import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Logging
import SQLKit
import Testing
import Vapor

/// On PostgreSQL a new job's admission is one statement, `atelier_admit_job` (`PostgresAdmission`): counted here
/// from the driver's own query log ("Executing query", one line per round trip), for a queued job and for the fast
/// path's admitted-and-started job, and refusals leave nothing written. Needs TEST_DATABASE_URL; the SQLite lane
/// keeps its group commit (`AdmissionGroupCommitTests`).
@Suite struct PostgresAdmissionTests {
    static let params = ImageParameters(prompt: "one trip", model: "gpt-image-1-mini", size: "1024x1024", quality: "low")

    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL"))
    func aQueuedJobIsOneStatement() async throws {
        try await withTestApp { app in
            let logs = Self.capture(app)
            let hit = RateHit(subjects: [.owner(.images, "owner-1")], cost: 1, limit: 5, what: "images")
            // MUT
            let created = try await JobEnqueuer(app: app).enqueue(
                kind: .generate, params: Self.params, owner: "owner-1", idempotencyKey: nil, rateHit: hit)
            // validate: one round trip wrote the job, its event, its reservation, the hold and the hit, and told the
            // other instances' workers (no `announceWork` statement after it)
            let statements = Self.admissionStatements(logs, until: nil)
            #expect(statements.count == 1 && statements.allSatisfy { $0.contains("atelier_admit_job") }, "\(statements)")
            #expect(created.created && created.job.status == "queued" && created.job.seq == 1)
            let id = try created.job.requireID()
            #expect(try await Self.count("SELECT COUNT(*) AS n FROM job_events WHERE job_id = '\(id)' AND seq = 1", app) == 1)
            #expect(try await Self.count("SELECT COUNT(*) AS n FROM spend_ledger WHERE job_id = '\(id)' AND state = 'reserved'", app) == 1)
            #expect(try await Self.count("SELECT CAST(MAX(hits) AS BIGINT) AS n FROM rate_counters", app) == 1)
            let estimate = try #require(created.job.estimatedCostNano)
            #expect(try await Self.count("SELECT CAST(MIN(amount_nano) AS BIGINT) AS n FROM spend_periods", app) == estimate)
        }
    }

    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL"))
    func aJobStartedAtAdmissionIsOneStatement() async throws {
        try await CompatStartNowTests.withRunningWorker { app, worker in
            // the first job of a lane takes the transactional claim (it creates the lane); the next ones do not
            let first = try await JobEnqueuer(app: app).enqueue(
                kind: .generate, params: Self.params, owner: "owner-2", idempotencyKey: nil, startNow: true)
            #expect(first.job.status == "running")
            _ = try await CompatStartNowTests.firstJob(app, prompt: Self.params.prompt, status: "succeeded")
            let logs = Self.capture(app)
            // MUT
            let second = try await JobEnqueuer(app: app).enqueue(
                kind: .generate, params: Self.params, owner: "owner-2", idempotencyKey: nil, startNow: true)
            // validate: admitted, gated and claimed in one round trip, with job.queued and job.running stored
            let statements = Self.admissionStatements(logs, until: "committed_started")
            #expect(statements.count == 1 && statements.allSatisfy { $0.contains("atelier_admit_job") }, "\(statements)")
            #expect(second.job.status == "running" && second.job.seq == 2 && second.job.attempts == 1)
            #expect(worker.startedAtAdmission == 2)
            let id = try second.job.requireID()
            let types = try await CompatStartNowTests.eventTypes(id, app)
            #expect(Array(types.prefix(2)) == ["job.queued", "job.running"])
        }
    }

    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL"))
    func refusalsWriteNothingAndAnswerAsBefore() async throws {
        try await withTestApp { app in
            let enqueuer = JobEnqueuer(app: app)
            // a cap below one job's estimate: spend_cap_reached, worded as SpendLedger.hold words it
            let capped = SpendBudget(dailyCapNano: 1)
            let cap = await #expect(throws: APIError.self) {
                try await enqueuer.enqueue(kind: .generate, params: Self.params, owner: "owner-3", idempotencyKey: nil, budget: capped)
            }
            #expect(cap?.code == "spend_cap_reached" && cap?.status == .tooManyRequests)
            #expect(cap?.message.contains("would pass your daily spending cap of $") == true, "\(cap?.message ?? "")")
            #expect(cap?.message.hasSuffix("; it resets at midnight UTC.") == true, "\(cap?.message ?? "")")
            #expect(cap?.headers.first(name: .retryAfter) != nil)
            // an images-per-minute limit already used: rate_limited, as RateHit.apply words it
            try await (app.db as! any SQLDatabase).raw(
                "INSERT INTO rate_counters (subject, window_start, hits) VALUES ('img:owner-3', \(bind: Int64(app.atelier.clock.now()) / 60 * 60), 2)"
            ).run()
            let hit = RateHit(subjects: [.owner(.images, "owner-3")], cost: 1, limit: 2, what: "images")
            let limited = await #expect(throws: APIError.self) {
                try await enqueuer.enqueue(kind: .generate, params: Self.params, owner: "owner-3", idempotencyKey: nil, rateHit: hit)
            }
            #expect(limited?.code == "rate_limited" && limited?.message.hasPrefix("Too many images: the limit is 2 per minute.") == true)
            // validate: nothing of either refusal was written (the counter stays as it was)
            for table in ["jobs", "job_events", "spend_ledger", "spend_periods"] {
                #expect(try await Self.count("SELECT COUNT(*) AS n FROM \(table)", app) == 0, "\(table)")
            }
            #expect(try await Self.count("SELECT CAST(MAX(hits) AS BIGINT) AS n FROM rate_counters", app) == 2)
        }
    }

    static func capture(_ app: Application) -> CapturedLogs {
        let logs = CapturedLogs()
        app.logger = Logger(label: "test") { _ in CapturingLogHandler(logs: logs) }
        return logs
    }

    /// The statements logged between the enqueuer's `committing` mark and its `until` mark (nil: all after it).
    static func admissionStatements(_ logs: CapturedLogs, until: String?) -> [String] {
        let lines = logs.all
        func mark(_ step: String) -> Int? {
            lines.firstIndex { $0.contains("fast path") && ($0.contains("\"step\": \(step),") || $0.contains("\"step\": \(step)]")) }
        }
        guard let start = mark("committing"), let end = until.map(mark) ?? lines.endIndex else { return ["marks not found: \(lines)"] }
        return lines[start..<end].filter { $0.contains("Executing query") }
    }

    static func count(_ query: String, _ app: Application) async throws -> Int64 {
        try await AdmissionGroupCommitTests.count(query, app)
    }
}
