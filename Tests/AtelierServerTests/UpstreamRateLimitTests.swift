import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import OpenAIStandIn
import Testing
import Vapor

/// Living within the upstream's rate limits, through the real OpenAI client against the stand-in's
/// images-per-window limiter (scaled windows keep the tests fast): 429s wait without spending attempts, pacing
/// keeps 429s rare, several keys share the load, quota and refused keys stop a key.
@Suite struct UpstreamRateLimitTests {
    static let window = 3.0
    static let keyOne = "sk-test-key-one-1111"
    static let keyTwo = "sk-test-key-two-2222"

    /// 60 jobs submitted at once to a worker (8 slots) against a stand-in allowing 12 images per window per key;
    /// Atelier paces at the same limit. Returns the stand-in's `/_standin/limits`.
    static func runSixty(keys: [String]) async throws -> [String: Any] {
        var options = StandInOptions()
        options.imagesPerWindow = 12
        options.rateWindowSeconds = window
        return try await StandInServer.run(options: options) { standIn in
            var config = try standInConfig(standIn, timeout: 60)
            config.worker.concurrency = 8
            config.upstream.keys = keys.enumerated().map { .init(label: "key\($0.offset + 1)", apiKey: $0.element) }
            config.upstream.rules = [.init(model: "*", imagesPerWindow: 12)]
            config.upstream.windowSeconds = window
            var limits: [String: Any] = [:]
            try await withTestApp(config) { app in
                var ids: [String] = []
                for index in 0..<60 {
                    ids.append(try await app.enqueueGenerate(["prompt": "batch \(index)", "size": "1024x1024", "quality": "low"]))
                }
                let (_, stop) = app.runWorker()
                var statuses: [String: Int] = [:]
                var attempts: Set<Int> = []
                var keysUsed: [String: Int] = [:]
                for id in ids {
                    let job = try await app.awaitEnd(of: id, within: 120)
                    statuses[job["status"] as? String ?? "?", default: 0] += 1
                    attempts.insert(job["attempts"] as? Int ?? -1)
                    keysUsed[job["upstream_key"] as? String ?? "?", default: 0] += 1
                }
                await stop()
                #expect(statuses == ["succeeded": 60], "\(statuses)")
                #expect(attempts == [1], "no attempt was spent on a rate limit")
                #expect(Set(keysUsed.keys) == Set((1...keys.count).map { "key\($0)" }), "\(keysUsed)")
                limits = try await standIn.limits()
            }
            return limits
        }
    }

    /// Seconds from the first to the last image the stand-in served, in windows.
    static func windowsUsed(_ limits: [String: Any]) -> Double {
        let keys = (limits["keys"] as? [String: [String: Any]] ?? [:]).values
        let first = keys.compactMap { $0["first_at"] as? Double }.min() ?? 0
        let last = keys.compactMap { $0["last_at"] as? Double }.max() ?? 0
        return (last - first) / window
    }

    @Test func sixtyJobsAtOnceAllSucceedWithFewUpstream429sAndTwoKeysTakeAboutHalfTheWindows() async throws {
        let one = try await Self.runSixty(keys: [Self.keyOne])
        #expect((one["rate_limited"] as? Int ?? 99) < 10, "\(one)")
        let oneWindows = Self.windowsUsed(one)
        // 12 at once, then 12 per window: 48 more images need 4 windows however fast the machine is.
        #expect(oneWindows >= 3.5, "\(one)")

        let two = try await Self.runSixty(keys: [Self.keyOne, Self.keyTwo])
        #expect((two["rate_limited"] as? Int ?? 99) < 10, "\(two)")
        let served = (two["keys"] as? [String: [String: Any]] ?? [:]).values.compactMap { $0["images"] as? Int }
        #expect(served.count == 2 && served.allSatisfy { $0 >= 20 }, "both keys carry the load: \(two)")
        // Ideal: 1.5 windows against 4 (24 at once, then 24 per window); a generous margin for a busy machine.
        let twoWindows = Self.windowsUsed(two)
        #expect(twoWindows <= oneWindows * 0.7, "two keys: \(twoWindows) windows, one key: \(oneWindows)")
    }

    @Test func withoutPacing429sNeverFailAJobEvenWithOneAttempt() async throws {
        var options = StandInOptions()
        options.imagesPerWindow = 4
        options.rateWindowSeconds = 1
        try await StandInServer.run(options: options) { standIn in
            var config = try standInConfig(standIn, maxAttempts: 1)
            config.worker.concurrency = 4
            try await withTestApp(config) { app in
                // Three 429s for certain (the burst may or may not meet the limiter on a busy machine).
                try await standIn.inject(Array(repeating: ["kind": "rate_limit", "retry_after": 0.2, "retry_after_ms": 200], count: 3))
                var ids: [String] = []
                for index in 0..<12 { ids.append(try await app.enqueueGenerate(["prompt": "burst \(index)", "quality": "low"])) }
                let (_, stop) = app.runWorker()
                for id in ids {
                    let job = try await app.awaitEnd(of: id, within: 60)
                    #expect(job["status"] as? String == "succeeded", "\(job)")
                    #expect(job["attempts"] as? Int == 1)
                }
                await stop()
                let limited = try await standIn.limits()["rate_limited"] as? Int ?? -1
                #expect(try await standIn.calls() == 12 + 3 + limited, "each job succeeded once; every other call was a 429")
            }
        }
    }

    @Test func aJobStillWaitingAfterJobRateLimitWaitFailsSayingSo() async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock()
            var config = try standInConfig(standIn)
            config.upstream.maxWaitSeconds = 60
            try await withTestApp(config, overrides: .init(clock: clock.clock)) { app in
                try await standIn.inject(Array(repeating: ["kind": "rate_limit", "retry_after": 30], count: 3))
                let id = try await app.enqueueGenerate()
                let worker = app.makeJobWorker()
                for _ in 0..<2 {
                    #expect(try await worker.processNext())
                    #expect(try await app.jobRecord(id).status == "queued")
                    clock.advance(by: 31)
                }
                #expect(try await worker.processNext())
                let job = try await app.job(id)
                #expect(job["status"] as? String == "failed")
                #expect(job[path: "error.code"] as? String == "rate_limit_wait_exceeded")
                let message = try #require(job[path: "error.message"] as? String)
                #expect(message.contains("rate limit") && message.contains("JOB_RATE_LIMIT_WAIT (60 s)"), "\(message)")
                #expect(job["attempts"] as? Int == 0)
            }
        }
    }

    @Test func anExhaustedQuotaFailsTheJobAtOnceAndStopsTheKeyUntilAnAdminResumesIt() async throws {
        var options = StandInOptions()
        options.quotaExhausted = true
        try await StandInServer.run(options: options) { standIn in
            try await withTestApp(try standInConfig(standIn, maxAttempts: 5)) { app in
                let first = try await app.enqueueGenerate()
                let second = try await app.enqueueGenerate(["prompt": "waits for the key"])
                let worker = app.makeJobWorker()
                #expect(try await worker.processNext())
                let failed = try await app.job(first)
                #expect(failed["status"] as? String == "failed")
                #expect(failed["attempts"] as? Int == 1)
                #expect(failed[path: "error.code"] as? String == "insufficient_quota")
                let message = try #require(failed[path: "error.message"] as? String)
                #expect(message.contains("out of quota") && message.contains("until an administrator resumes it"), "\(message)")
                let events = try await JobEventRecord.query(on: app.db).filter(\.$jobID == UUID(uuidString: first)!).sort(\.$seq).all()
                #expect(events.map(\.type) == ["job.queued", "job.running", "spend.quota_exhausted", "job.failed"])

                #expect(try await worker.processNext() == false, "the key is stopped: nothing is claimed")
                let overview = try await app.send(.GET, "v1/admin/upstream").json
                let key = try #require((overview["keys"] as? [[String: Any]])?.first)
                #expect(key["label"] as? String == "default" && key["status"] as? String == "quota_exhausted", "\(overview)")
                #expect(!String(describing: overview).contains("sk-test"), "no secret in the admin view")
                let metrics = try await app.send(.GET, "v1/metrics").body.string
                #expect(metrics.contains(#"atelier_upstream_key_stops_total{key="default",reason="quota_exhausted"} 1"#))
                #expect(metrics.contains("atelier_upstream_keys_stopped 1.0"))

                try await standIn.setQuota(exhausted: false)
                #expect(try await app.send(.POST, "v1/admin/upstream/keys/nope/resume").status == .notFound)
                #expect(try await app.send(.POST, "v1/admin/upstream/keys/default/resume").status == .ok)
                try await app.drainJobs(worker)
                #expect(try await app.job(second)["status"] as? String == "succeeded")
            }
        }
    }

    @Test func aRefusedKeyIsDisabledAndTheJobRunsOnAnotherKeyWithoutSpendingAnAttempt() async throws {
        var options = StandInOptions()
        options.apiKeys = [Self.keyTwo]
        try await StandInServer.run(options: options) { standIn in
            var config = try standInConfig(standIn)
            config.upstream.keys = [.init(label: "revoked", apiKey: Self.keyOne), .init(label: "good", apiKey: Self.keyTwo)]
            let logs = CapturedLogs()
            try await withTestApp(config) { app in
                app.logger = Logger(label: "test") { _ in CapturingLogHandler(logs: logs) }
                let id = try await app.enqueueGenerate()
                try await app.drainJobs(app.makeJobWorker())
                let job = try await app.job(id)
                #expect(job["status"] as? String == "succeeded")
                #expect(job["attempts"] as? Int == 1)
                #expect(job["upstream_key"] as? String == "good")
                let overview = try await app.send(.GET, "v1/admin/upstream").json
                let states = (overview["keys"] as? [[String: Any]] ?? []).map { "\($0["label"]!):\($0["status"]!)" }
                #expect(states == ["revoked:refused", "good:active"])
                // Never retried blindly: the next job goes straight to the good key.
                _ = try await app.enqueueGenerate(["prompt": "second"])
                try await app.drainJobs(app.makeJobWorker())
                #expect(try await standIn.calls() == 3)
                #expect(!logs.text.contains(Self.keyOne) && !logs.text.contains(Self.keyTwo))
                // Usage and cost per key.
                let perKey = (try await app.send(.GET, "v1/admin/upstream").json["keys"] as? [[String: Any]] ?? [])
                    .map { "\($0["label"]!):\($0["jobs_today"]!)" }
                #expect(perKey == ["revoked:0", "good:2"])
                let metrics = try await app.send(.GET, "v1/metrics").body.string
                #expect(metrics.contains(#"atelier_upstream_images_total{key="good"} 2"#), "\(metrics)")
            }
        }
    }

    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL: two instances on one PostgreSQL database"))
    func twoInstancesShareOneViewOfThePause() async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock()
            let configA = try standInConfig(standIn)
            let configB = try AtelierConfig.testing(
                openAI: configA.openAI, database: configA.database)
            try await withTestApp(configA, overrides: .init(clock: clock.clock)) { a in
                try await withTestApp(configB, overrides: .init(clock: clock.clock)) { b in
                    try await standIn.inject([["kind": "rate_limit", "retry_after": 30]])
                    let id = try await a.enqueueGenerate()
                    #expect(try await a.makeJobWorker().processNext())
                    #expect(try await a.jobRecord(id).status == "queued")
                    let workerB = b.makeJobWorker()
                    #expect(try await workerB.processNext() == false, "B sees A's pause")
                    let overview = try await b.send(.GET, "v1/admin/upstream").json
                    let lane = try #require((overview["keys"] as? [[String: Any]])?.first?["lanes"] as? [[String: Any]])
                    #expect(lane.first?["reason"] as? String == "rate_limit")
                    #expect((lane.first?["wait_seconds"] as? Double ?? 0) > 29)
                    clock.advance(by: 31)
                    #expect(try await workerB.processNext())
                    #expect(try await b.job(id)["status"] as? String == "succeeded")
                    #expect(try await standIn.calls() == 2)
                }
            }
        }
    }
}

extension UpstreamRateLimitTests {
    @Test func aStopAppliesToTheKeyThatEarnedItNotToItsReplacementUnderTheSameLabel() async throws {
        try await withTestApp(try standInConfigless()) { app in
            var gate = app.upstreamGate()
            gate.fingerprints["default"] = UpstreamKeyFingerprint.of("sk-old-key-0000")
            try await gate.setStatus(.quotaExhausted, key: "default", message: "out of quota")
            #expect(try await gate.activeKeys().isEmpty)
            gate.fingerprints["default"] = UpstreamKeyFingerprint.of("sk-new-key-1111")
            #expect(try await gate.activeKeys() == ["default"], "the admin replaced the key and restarted")
            #expect(try await gate.overview().keys.first?.status == "active")
        }
    }

    func standInConfigless() throws -> AtelierConfig {
        try .testing(openAI: .init(apiKey: "sk-new-key-1111", baseURL: "http://127.0.0.1:9/v1"))
    }
}

extension UpstreamRateLimitTests {
    @Test func anAdminSetsPacingLimitsThatEveryWorkerAppliesAtItsNextAdmission() async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock()
            try await withTestApp(try standInConfig(standIn), overrides: .init(clock: clock.clock)) { app in
                let headers: HTTPHeaders = ["Content-Type": "application/json"]
                let bad = try await app.send(
                    .PUT, "v1/admin/upstream/limits", headers: headers,
                    body: ByteBuffer(string: #"{"model":"gpt-image-9","images_per_window":2}"#))
                #expect(bad.status == .badRequest && bad.errorField == "model")
                let zero = try await app.send(
                    .PUT, "v1/admin/upstream/limits", headers: headers,
                    body: ByteBuffer(string: #"{"model":"*","images_per_window":0}"#))
                #expect(zero.errorField == "images_per_window")
                let set = try await app.send(
                    .PUT, "v1/admin/upstream/limits", headers: headers,
                    body: ByteBuffer(string: #"{"key":null,"model":"gpt-image-1.5","images_per_window":1}"#))
                #expect(set.status == .ok)
                #expect(set.json[path: "limits.0.source"] as? String == "admin")
                let first = try await app.enqueueGenerate(["prompt": "one", "model": "gpt-image-1.5"])
                let second = try await app.enqueueGenerate(["prompt": "two", "model": "gpt-image-1.5"])
                let worker = app.makeJobWorker()
                try await app.drainJobs(worker)
                #expect(try await app.job(first)["status"] as? String == "succeeded")
                let waiting = try await app.job(second)
                #expect(waiting["status"] as? String == "queued" && waiting["attempts"] as? Int == 0)
                #expect(waiting[path: "waiting.seconds"] as? Int == 60, "one image a minute: the next in a minute")
                clock.advance(by: 61)
                try await app.drainJobs(worker)
                #expect(try await app.job(second)["status"] as? String == "succeeded")
                #expect(try await standIn.calls() == 2, "pacing kept the second call back: no 429 was earned")
            }
        }
    }
}
