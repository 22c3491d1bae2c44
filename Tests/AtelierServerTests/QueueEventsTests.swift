import AsyncHTTPClient
import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor

/// Live events over SSE on a real port: order, `id:` lines, Last-Event-ID resumption, and (PostgreSQL lane)
/// delivery across two instances sharing a database.
@Suite struct QueueEventsTests {
    @Test func jobEventsArriveInOrderAndAReconnectMissesNothing() async throws {
        let provider = FakeImageProvider(script: [.hold(usage: FakeImageProvider.defaultUsage)])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let port = try await app.startServer()
            let id = try await app.enqueueGenerate(["prompt": "streamed", "partial_images": 1])
            let worker = app.makeJobWorker()

            // A client that stays connected from the start to the end.
            let whole = Task {
                var reader = try await app.openEvents(port: port, path: "v1/jobs/\(id)/events")
                var frames: [SSEFrame] = []
                while let frame = try await reader.next() { frames.append(frame) }
                return frames
            }
            // A client that sees the first two events, then drops.
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            var first = try await app.openEvents(port: port, path: "v1/jobs/\(id)/events", client: client)
            #expect(first.status == .ok)
            let run = Task { try await worker.processNext() }
            await provider.waitUntilHolding()
            let early = try await first.next(2)
            #expect(early.map(\.event) == ["job.queued", "job.running"])
            try await client.shutdown()

            await provider.release()
            #expect(try await run.value)

            // Reconnecting with the last id seen replays exactly what was missed, then ends at the terminal event.
            let lastID = try #require(early.last?.id)
            var resumed = try await app.openEvents(port: port, path: "v1/jobs/\(id)/events", lastEventID: lastID)
            var rest: [SSEFrame] = []
            while let frame = try await resumed.next() { rest.append(frame) }
            #expect(rest.map(\.event) == ["job.partial_image", "job.succeeded"])
            let all = early + rest
            #expect(all.compactMap(\.seq) == [1, 2, 3, 4])
            #expect(all.map(\.id) == (1...4).map { "\(id.lowercased()):\($0)" })
            #expect(rest.first?.json[path: "image.role"] as? String == "partial")
            #expect((rest.first?.json[path: "image.url"] as? String)?.hasPrefix("/v1/images/") == true)
            #expect(rest.last?.json[path: "job.status"] as? String == "succeeded")

            let seen = try await whole.value
            #expect(seen.map(\.event) == ["job.queued", "job.running", "job.partial_image", "job.succeeded"])
            #expect(seen.compactMap(\.seq) == [1, 2, 3, 4])

            // After the end there is nothing more to send: 204 tells EventSource not to reconnect.
            var ended = try await app.openEvents(port: port, path: "v1/jobs/\(id)/events", lastEventID: "\(id.lowercased()):4")
            #expect(ended.status == .noContent)
            #expect(try await ended.next() == nil)
            await app.server.shutdown()
        }
    }

    @Test func theAllJobsStreamResumesAcrossJobs() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let port = try await app.startServer()
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            var live = try await app.openEvents(port: port, path: "v1/events", client: client)
            let a = try await app.enqueueGenerate(["prompt": "a"])
            let firstA = try #require(try await live.next())
            #expect(firstA.event == "job.queued")
            try await client.shutdown()

            let b = try await app.enqueueGenerate(["prompt": "b"])
            try await app.drainJobs(app.makeJobWorker())
            let second = HTTPClient(eventLoopGroupProvider: .singleton)
            var resumed = try await app.openEvents(port: port, path: "v1/events", lastEventID: firstA.id, client: second)
            let missed = try await resumed.next(5)
            try await second.shutdown()  // the all-jobs stream never ends by itself
            let byJob = Dictionary(grouping: missed, by: { $0.json["job_id"] as? String ?? "" })
            #expect(byJob[a.lowercased()]?.map(\.event) == ["job.running", "job.succeeded"])
            #expect(byJob[b.lowercased()]?.map(\.event) == ["job.queued", "job.running", "job.succeeded"])
            await app.server.shutdown()
        }
    }

    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL: cross-instance events travel by PostgreSQL LISTEN/NOTIFY"))
    func anEventPublishedByOneInstanceReachesAClientOfAnother() async throws {
        let provider = FakeImageProvider()
        let configA = try AtelierConfig.testing()
        let configB = try AtelierConfig.testing(database: configA.database)
        try await withTestApp(configA, overrides: .init(provider: provider)) { a in
            try await withTestApp(configB, overrides: .init(provider: FakeImageProvider())) { b in
                try await waitUntilRelayed(from: a, to: b)
                let port = try await b.startServer()
                let id = try await a.enqueueGenerate(["prompt": "from A", "partial_images": 1])
                var reader = try await b.openEvents(port: port, path: "v1/jobs/\(id)/events")
                let queued = try #require(try await reader.next())
                #expect(queued.event == "job.queued")  // from the database backlog
                try await a.drainJobs(a.makeJobWorker())  // A's worker runs it and publishes
                var rest: [SSEFrame] = []
                while let frame = try await reader.next() { rest.append(frame) }
                #expect(rest.map(\.event) == ["job.running", "job.partial_image", "job.succeeded"])
                #expect(rest.compactMap(\.seq) == [2, 3, 4])
                #expect(await provider.callCount == 1)
                await b.server.shutdown()
            }
        }
    }

    @Test(
        .enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL: the change travels by PostgreSQL LISTEN/NOTIFY"),
        .timeLimit(.minutes(3)))
    func aModelTheAdminDisablesOnOneInstanceIsRefusedByAnotherAtOnce() async throws {
        let configA = try AtelierConfig.testing()
        var configB = try AtelierConfig.testing(database: configA.database)
        configB.worker.enabled = false  // an HTTP-only instance: no housekeeping would ever reload it
        try await withTestApp(configA, overrides: .init(provider: FakeImageProvider())) { a in
            try await withTestApp(configB, overrides: .init(provider: FakeImageProvider())) { b in
                try await waitUntilRelayed(from: a, to: b)
                let body = ["prompt": "a lighthouse", "model": "gpt-image-1.5"]
                #expect(try await b.postJSON("v1/generate", body).status == .accepted)
                let patched = try await a.send(
                    .PATCH, "v1/admin/models/gpt-image-1.5", headers: ["Content-Type": "application/json"],
                    body: ByteBuffer(string: #"{"enabled": false}"#))
                #expect(patched.status == .ok)
                // B's reload, woken by the NOTIFY: bounded by the test's time limit, not a polling loop (one that
                // spun on Task.yield held a cooperative thread and starved the suite on 2 cores).
                await b.atelier.liveRegistry.until { $0.model("gpt-image-1.5")?.enabled == false }
                let refused = try await b.postJSON("v1/generate", body)
                #expect(refused.status == .badRequest, "B must refuse the disabled model without a restart")
                #expect(refused.json[path: "error.field"] as? String == "model")
            }
        }
    }

    /// `atelier_admit_job` tells the other instances' workers of a job it leaves queued (its `w|…` NOTIFY, sent at
    /// its commit, instead of `announceWork`'s statement after it). B's worker polls once an hour here and waits
    /// before A admits the job, so only that NOTIFY can make it claim the job within the test's time limit. Both
    /// apps read one pinned clock: each test app's own starts at noon of the test day when the app is made, so a job
    /// A admits would not yet be due by B's.
    @Test(
        .enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL: the wake-up travels by PostgreSQL LISTEN/NOTIFY"),
        .timeLimit(.minutes(3)))
    func aJobQueuedByOneInstanceWakesAnotherInstancesWorker() async throws {
        var configA = try AtelierConfig.testing()
        configA.worker.enabled = false  // A only admits: its jobs stay queued
        var configB = try AtelierConfig.testing(database: configA.database)
        configB.worker.pollSeconds = 3600
        let provider = FakeImageProvider()
        let clock = AtelierClock.pinned()
        try await withTestApp(configA, overrides: .init(provider: FakeImageProvider(), clock: clock)) { a in
            try await withTestApp(configB, overrides: .init(provider: provider, clock: clock)) { b in
                try await waitUntilRelayed(from: a, to: b)
                let worker = b.makeJobWorker()
                let running = Task { await worker.run() }
                await b.atelier.hub.untilAWorkerWaits()
                // MUT
                let id = try await a.enqueueGenerate(["prompt": "queued on A, run on B"])
                // validate: B's worker was woken, claimed it and ran it
                let job = try await b.awaitEnd(of: id, within: 120)
                #expect(job["status"] as? String == "succeeded")
                #expect(await provider.callCount == 1)
                running.cancel()
                await b.atelier.hub.wakeWorkers()  // out of its hour-long wait, to see the cancellation
                await running.value
            }
        }
    }

    /// B's LISTEN connection starts after boot: publish probes from A until one reaches B's hub (bounded).
    private func waitUntilRelayed(from a: Application, to b: Application) async throws {
        let hub = b.atelier.hub
        let (subscription, events) = await hub.subscribe(.init(owner: nil, jobID: nil))
        defer { Task { await hub.unsubscribe(subscription) } }
        let prober = Task { () -> [String] in
            var probes: [String] = []
            let deadline = ContinuousClock.now + .seconds(120)  // the whole PostgreSQL lane runs in parallel on 2 cores
            while !Task.isCancelled && ContinuousClock.now < deadline {
                if let probe = try? await a.enqueueGenerate(["prompt": "probe"]), let job = try? await a.jobRecord(probe) {
                    job.status = "canceled"  // never run; removed once B has heard one (B reads the event row)
                    try? await job.update(on: a.db)
                    probes.append(probe)
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            await hub.unsubscribe(subscription)
            return probes
        }
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() != nil, "B never received an event from A")
        prober.cancel()
        for probe in await prober.value {
            if let job = try? await a.jobRecord(probe) { try? await JobDeleter(app: a).delete(job) }
        }
    }
}
