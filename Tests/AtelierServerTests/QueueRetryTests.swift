import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor

/// Retries through the real OpenAI client against the in-process stand-in with injected faults.
/// Back-off is checked on the job's `run_after` under a hand-moved clock; nothing sleeps.
@Suite struct QueueRetryTests {
    @Test func aRateLimitPausesTheModelUntilRetryAfterWithoutSpendingAnAttempt() async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock()
            try await withTestApp(try standInConfig(standIn), overrides: .init(clock: clock.clock)) { app in
                try await standIn.inject([["kind": "rate_limit", "retry_after": 7]])
                let id = try await app.enqueueGenerate()
                let other = try await app.enqueueGenerate(["prompt": "the same model, waiting too"])
                let worker = app.makeJobWorker()
                #expect(try await worker.processNext())
                let record = try await app.jobRecord(id)
                #expect(record.status == "queued")
                #expect(record.attempts == 0, "a 429 is a state of the upstream, not a failed attempt")
                let shown = try await app.job(id)
                #expect(shown[path: "error.code"] as? String == "rate_limited")
                #expect(shown[path: "waiting.seconds"] as? Int == 7)
                #expect(shown[path: "waiting.message"] as? String == "Waiting for OpenAI's rate limit, about 7 s")
                let events = try await JobEventRecord.query(on: app.db).filter(\.$jobID == record.requireID()).sort(\.$seq).all()
                #expect(events.map(\.type) == ["job.queued", "job.running", "job.waiting"])
                // The pause is the upstream's: no job of that model is claimed until Retry-After has passed.
                clock.advance(by: 6.9)
                #expect(try await worker.processNext() == false)
                clock.advance(by: 0.2)
                try await app.drainJobs(worker)
                let done = try await app.job(id)
                #expect(done["status"] as? String == "succeeded")
                #expect(done["attempts"] as? Int == 1)
                #expect(done["error"] is NSNull, "error is present and null")
                #expect(done["waiting"] is NSNull, "waiting is present and null")
                #expect(done["upstream_key"] as? String == "default")
                #expect((done["images"] as? [Any])?.count == 1)
                #expect(try await app.job(other)["status"] as? String == "succeeded")
                #expect(try await standIn.calls() == 3)
            }
        }
    }

    @Test func retryAfterMillisecondsAndExponentialBackoffAreUsed() async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock()
            var config = try standInConfig(standIn, maxAttempts: 5)
            config.worker.retryBaseSeconds = 10
            try await withTestApp(config, overrides: .init(clock: clock.clock)) { app in
                try await standIn.inject([["kind": "server_error", "status": 503], ["kind": "server_error", "status": 502]])
                let id = try await app.enqueueGenerate()
                let worker = app.makeJobWorker()
                #expect(try await worker.processNext())
                var record = try await app.jobRecord(id)
                // attempt 1: full jitter within [base/2, base]
                #expect(record.status == "queued")
                #expect((clock.now + 5...clock.now + 10).contains(record.runAfter), "\(record.runAfter - clock.now)")
                #expect(record.errorCode == "upstream_server_error")
                clock.advance(by: 10)
                #expect(try await worker.processNext())
                record = try await app.jobRecord(id)
                // attempt 2: within [base, 2 × base]
                #expect((clock.now + 10...clock.now + 20).contains(record.runAfter), "\(record.runAfter - clock.now)")
                clock.advance(by: 20)
                #expect(try await worker.processNext())
                #expect(try await app.job(id)["status"] as? String == "succeeded")
                #expect(try await standIn.calls() == 3)
            }
        }
    }

    @Test func timeoutAndTruncatedBodyAreRetried() async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock()
            // The timeout must leave room for a normal answer on a loaded 2-core machine (the third attempt),
            // and the hang must outlast it.
            try await withTestApp(try standInConfig(standIn, timeout: 5, maxAttempts: 3), overrides: .init(clock: clock.clock)) { app in
                try await standIn.inject([["kind": "hang", "seconds": 8], ["kind": "truncate"]])
                let id = try await app.enqueueGenerate()
                let worker = app.makeJobWorker()
                #expect(try await worker.processNext())
                #expect(try await app.jobRecord(id).errorCode == "upstream_timeout")
                clock.advance(by: 60)
                #expect(try await worker.processNext())
                let record = try await app.jobRecord(id)
                #expect(record.status == "queued")
                #expect(record.errorCode == "upstream_invalid_response")
                #expect(record.errorRetryable == true)
                clock.advance(by: 60)
                #expect(try await worker.processNext())
                let done = try await app.job(id)
                #expect(done["status"] as? String == "succeeded")
                #expect(done["attempts"] as? Int == 3)
                #expect((done["images"] as? [Any])?.count == 1)
            }
        }
    }

    @Test func exhaustingAttemptsFailsWithTheLastReason() async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock()
            try await withTestApp(try standInConfig(standIn, maxAttempts: 3), overrides: .init(clock: clock.clock)) { app in
                try await standIn.inject([
                    ["kind": "rate_limit", "retry_after": 1], ["kind": "server_error"], ["kind": "truncate"],
                    ["kind": "server_error"],
                ])
                let id = try await app.enqueueGenerate()
                let worker = app.makeJobWorker()
                for _ in 0..<3 {
                    #expect(try await worker.processNext())
                    clock.advance(by: 600)
                }
                clock.advance(by: 600)
                #expect(try await worker.processNext(), "the 429 did not count: a third attempt")
                clock.advance(by: 600)
                #expect(try await worker.processNext() == false, "no fourth attempt")
                let job = try await app.job(id)
                #expect(job["status"] as? String == "failed")
                #expect(job["attempts"] as? Int == 3)
                #expect(job[path: "error.code"] as? String == "upstream_server_error")
                #expect((job["images"] as? [Any])?.isEmpty == true)
                #expect(job["cost_usd"] is NSNull, "cost_usd is present and null")
                #expect(try await standIn.calls() == 4)
            }
        }
    }

    @Test(
        arguments: [
            (["kind": "invalid_request", "param": "prompt"], "The upstream refused"),
            (["kind": "moderation_blocked"], "safety system"),
            (["kind": "insufficient_quota"], "out of quota"),
            (["kind": "unauthenticated"], "OPENAI_API_KEY"),
        ] as [([String: String], String)])
    func nonRetryableFailuresFailAtOnce(fault: [String: String], hint: String) async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock()
            try await withTestApp(try standInConfig(standIn, maxAttempts: 5), overrides: .init(clock: clock.clock)) { app in
                try await standIn.inject([fault])
                let id = try await app.enqueueGenerate()
                let worker = app.makeJobWorker()
                #expect(try await worker.processNext())
                clock.advance(by: 3600)
                #expect(try await worker.processNext() == false)
                let job = try await app.job(id)
                #expect(job["status"] as? String == "failed", "\(fault)")
                #expect(job["attempts"] as? Int == 1)
                #expect(job[path: "error.retryable"] as? Bool == false)
                let message = job[path: "error.message"] as? String ?? ""
                #expect(message.contains(hint), "\(fault): \(message)")
                #expect(try await standIn.calls() == 1)
            }
        }
    }
}
