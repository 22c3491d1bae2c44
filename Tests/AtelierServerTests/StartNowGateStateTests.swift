import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor

/// The fast path's admission (`JobStartNow`) reads its owner's running jobs, the kill switch, the gate's stored limits
/// and the usable keys in one statement (`UpstreamGate.counts(_:_:withStateOf:on:)`); each of them still decides
/// whether the new job starts at once or stays queued.
@Suite struct StartNowGateStateTests {
    /// A new job of `owner` enqueued with `start`: started (its upstream key) or left queued (nil).
    static func enqueue(_ app: Application, _ start: JobStartNow, owner: String = "owner-g", model: String? = nil) async throws -> String? {
        var input = ImageRequestInput(prompt: "a lighthouse")
        input.model = model
        let params = try await app.atelier.validator(app.db).validate(input, for: .generations)
        let job = JobRecord(owner: owner, kind: .generate, params: params, maxAttempts: 3, now: Date().timeIntervalSince1970)
        let published = try await app.lifecycle().enqueue(job, images: [], budget: .unlimited, startNow: start)
        #expect(published.job?.status == (published.started == nil ? "queued" : "running"))
        return published.started?.upstreamKey
    }

    static func start(_ app: Application, perOwnerLimit: Int = 10) -> JobStartNow {
        JobStartNow(workerID: "w", leaseSeconds: 30, perOwnerLimit: perOwnerLimit, gate: app.upstreamGate())
    }

    @Test func aStoppedKeyLeavesTheJobQueuedUnlessTheKeyWasReplaced() async throws {
        try await withTestApp { app in
            let gate = app.upstreamGate()
            try await gate.setStatus(.quotaExhausted, key: "default", message: "out of quota")
            #expect(try await Self.enqueue(app, Self.start(app)) == nil, "the one key is stopped")
            // The admin replaced the key under the same label: the stop recorded for the old key does not apply.
            try await app.db.sql.raw("UPDATE upstream_keys SET fingerprint = 'an-older-key'").run()
            #expect(try await Self.enqueue(app, Self.start(app)) == "default")
            try await gate.setStatus(.active, key: "default", message: nil)
            #expect(try await Self.enqueue(app, Self.start(app)) == "default")
        }
    }

    @Test func theKillSwitchAndTheOwnersLimitLeaveTheJobQueued() async throws {
        try await withTestApp { app in
            let start = Self.start(app, perOwnerLimit: 1)
            try await app.db.sql.raw("INSERT INTO app_settings (name, value) VALUES ('kill_switch', 'true')").run()
            #expect(try await Self.enqueue(app, start) == nil, "the kill switch is on")
            try await app.db.sql.raw("UPDATE app_settings SET value = 'false' WHERE name = 'kill_switch'").run()
            #expect(try await Self.enqueue(app, start) == "default")
            #expect(try await Self.enqueue(app, start) == nil, "the owner has its one job running")
            #expect(try await Self.enqueue(app, start, owner: "owner-h") == "default", "another owner is under its limit")
        }
    }

    @Test func storedLimitsApplyByKeyAndModel() async throws {
        try await withTestApp { app in
            let gate = app.upstreamGate()
            // One request for this model on the configured key; another key's rule does not apply to it.
            try await gate.store(.init(key: "default", model: "gpt-image-1.5", requestsPerWindow: 1))
            try await gate.store(.init(key: "other", model: "gpt-image-1.5", requestsPerWindow: 5))
            #expect(try await Self.enqueue(app, Self.start(app), model: "gpt-image-1.5") == "default")
            #expect(try await Self.enqueue(app, Self.start(app), model: "gpt-image-1.5") == nil, "its one request is used")
            #expect(try await Self.enqueue(app, Self.start(app), model: "gpt-image-1-mini") == "default", "another model's lane")
        }
    }
}
