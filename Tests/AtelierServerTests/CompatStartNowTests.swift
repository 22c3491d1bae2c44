import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import ImageProcessing
import Foundation
import SQLKit
import Synchronization
import Testing
import Vapor
import VaporTesting

/// The compatible routes skip the queue's hop when this process's worker has room: the job is admitted and claimed
/// in one transaction and runs here at once; otherwise (owner at its limit, the upstream gate refusing) it queues.
@Suite struct CompatStartNowTests {
    @Test func aCallWithAFreeWorkerStartsInItsAdmissionWithoutAClaim() async throws {
        let provider = FakeImageProvider(script: [.hold(usage: FakeImageProvider.defaultUsage)])
        try await Self.withRunningWorker(provider: provider) { app, worker in
            let caller = Task { try await app.postJSON("v1/images/generations", ["prompt": "no hop", "size": "1024x1024"]) }
            await provider.waitUntilHolding()
            let job = try #require(try await JobRecord.query(on: app.db).first())
            #expect(job.status == "running" && job.leaseOwner == worker.id && job.attempts == 1)
            #expect(worker.claimed == 0 && worker.startedAtAdmission == 1 && worker.inFlight == 1)
            #expect(await provider.requests.first?.upstreamKey == "default", "the call went out on the key it was admitted on")
            await provider.release()
            let answer = try await caller.value
            #expect(answer.status == .ok, "\(answer.json)")
            #expect(try await Self.eventTypes(job.requireID(), app) == ["job.queued", "job.running", "job.succeeded"])
            #expect(try await app.jobRecord(job.requireID().uuidString).status == "succeeded")
            #expect(worker.claimed == 0)
        }
    }

    @Test func anEditStartedAtItsAdmissionReadsItsInputsAndSucceeds() async throws {
        try await Self.withRunningWorker(provider: FakeImageProvider()) { app, worker in
            // MUT: an edit through the compatible route; the job started in its admission is the model the
            // enqueue wrote (raw INSERT, claim set on it), and the edit handler queries its input images from it
            var form = MultipartBody()
            form.field("prompt", "edit at admission")
            form.field("size", "1024x1024")
            form.file("image", filename: "a.png", try ImageProcessing.synthesize(width: 64, height: 64, format: .png, seed: 1))
            let answer = try await app.send(.POST, "v1/images/edits", headers: form.headers, body: form.buffer)
            // validate
            #expect(answer.status == .ok, "\(answer.json)")
            #expect(worker.startedAtAdmission == 1 && worker.claimed == 0)
            let job = try #require(try await JobRecord.query(on: app.db).first())
            #expect(job.status == "succeeded" && job.kind == "edit")
        }
    }

    @Test func anOwnerAtItsLimitQueuesAndStillFinishes() async throws {
        let provider = FakeImageProvider(script: [.hold(usage: FakeImageProvider.defaultUsage)])
        try await Self.withRunningWorker(try .testing(perOwnerLimit: 1), provider: provider) { app, worker in
            let (subscription, events) = await app.atelier.hub.subscribe(.init())
            let first = Task { try await app.postJSON("v1/images/generations", ["prompt": "first", "size": "1024x1024"]) }
            await provider.waitUntilHolding()
            let second = Task { try await app.postJSON("v1/images/generations", ["prompt": "second", "size": "1024x1024"]) }
            var iterator = events.makeAsyncIterator()
            var queuedOnly: UUID?
            while queuedOnly == nil, let event = await iterator.next() {
                if event.type == "job.queued", try await JobRecord.find(event.jobID, on: app.db)?.prompt == "second" {
                    queuedOnly = event.jobID
                }
            }
            await app.atelier.hub.unsubscribe(subscription)
            let secondID = try #require(queuedOnly)
            #expect(try await JobRecord.find(secondID, on: app.db)?.status == "queued")
            await provider.release()
            #expect(try await first.value.status == .ok)
            #expect(try await second.value.status == .ok)
            #expect(worker.startedAtAdmission == 1 && worker.claimed == 1, "the second job went through the queue")
            #expect(try await Self.eventTypes(secondID, app) == ["job.queued", "job.running", "job.succeeded"])
        }
    }

    @Test func aGateWithNoRoomQueuesTheJobUntilItHasRoom() async throws {
        let clock = ManualClock()
        let provider = FakeImageProvider()
        try await Self.withRunningWorker(provider: provider, clock: clock) { app, worker in
            let model = "gpt-image-1.5"
            try await app.upstreamGate().store(.init(key: "default", model: model, requestsPerWindow: 1))
            let first = try await app.postJSON(
                "v1/images/generations", ["prompt": "takes the one request", "model": model, "size": "1024x1024"])
            #expect(first.status == .ok && worker.startedAtAdmission == 1)
            let second = Task { try await app.postJSON("v1/images/generations", ["prompt": "waits", "model": model, "size": "1024x1024"]) }
            let waiting = try await Self.firstJob(app, prompt: "waits", status: "queued")
            // Not started at its admission, and not sent upstream while the key has no request left. (A worker poll
            // that read the lanes just before the pause committed may claim it once; its own admission then puts
            // it back, `job.waiting`, as for any claimed job.)
            #expect(worker.startedAtAdmission == 1)
            #expect(await provider.callCount == 1)
            clock.advance(by: 61)  // the request bucket refills
            await app.atelier.hub.wakeWorkers()
            #expect(try await second.value.status == .ok)
            #expect(worker.startedAtAdmission == 1 && worker.claimed >= 1, "the second job went through the queue")
            #expect(await provider.callCount == 2)
            #expect(try await app.jobRecord(waiting.uuidString).status == "succeeded")
            #expect(try await Self.eventTypes(waiting, app).suffix(2) == ["job.running", "job.succeeded"])
        }
    }

    @Test func cancelingAFastPathJobAbortsItsCallAndEndsItsReservation() async throws {
        let provider = FakeImageProvider(script: [.hold(usage: FakeImageProvider.defaultUsage)])
        try await Self.withRunningWorker(provider: provider) { app, worker in
            let caller = Task { try await app.postJSON("v1/images/generations", ["prompt": "canceled", "size": "1024x1024"]) }
            await provider.waitUntilHolding()
            let job = try #require(try await JobRecord.query(on: app.db).first())
            let jobID = try job.requireID()
            #expect(worker.startedAtAdmission == 1)
            let canceled = try await app.send(.POST, "v1/jobs/\(jobID.uuidString.lowercased())/cancel")
            #expect(canceled.status == .ok, "\(canceled.json)")
            let answer = try await caller.value
            #expect(answer.status != .ok)
            let ended = try await app.jobRecord(jobID.uuidString)
            #expect(ended.status == "canceled", "\(ended.errorCode ?? "")")
            #expect(await provider.canceledHolds == 1)
            #expect(await provider.callCount == 1)
            // Nothing stays reserved. As on the worker path, a cancel after the upstream call started is charged the
            // estimate (the upstream bills a request it started): the reservation is settled, not held.
            let ledger = try await app.ledgerEntry(of: jobID)
            #expect(ledger.state == "settled" && ledger.settled == job.estimatedCostNano)
            #expect(worker.inFlight == 0)
        }
    }

    @Test func anEnqueueAndClaimKilledAfterItsClaimLeavesNoJobAndTakesNoUpstreamRoom() async throws {
        struct Killed: Error {}
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let params = try await app.atelier.validator(app.db).validate(ImageRequestInput(prompt: "a lighthouse"), for: .generations)
            let gate = app.upstreamGate()
            try await gate.store(.init(key: "default", model: params.model, requestsPerWindow: 1))
            let start = JobStartNow(workerID: "w", leaseSeconds: 30, perOwnerLimit: 10, gate: gate)
            func newJob() -> JobRecord { JobRecord(owner: "killed", kind: .generate, params: params, maxAttempts: 3, now: clock.now) }
            // Each step is passed twice: by the enqueue, then by the claim; the fault hits the claim's.
            for step in [JobLifecycle.Step.rowWritten, .eventStored] {
                let passed = Mutex(0)
                let killing = JobLifecycle(database: app.db, publisher: app.publisher()) { reached in
                    guard reached == step else { return }
                    if passed.withLock({
                        $0 += 1; return $0
                    }) == 2 {
                        throw Killed()
                    }
                }
                await #expect(throws: Killed.self) {
                    _ = try await killing.enqueue(newJob(), images: [], budget: .unlimited, startNow: start)
                }
            }
            #expect(try await JobRecord.query(on: app.db).count() == 0)
            #expect(try await JobEventRecord.query(on: app.db).count() == 0)
            #expect(try await app.db.sql.raw("SELECT job_id FROM spend_ledger").all().isEmpty)
            // The gate's one request was not used up by the rolled-back attempts: the next job starts on it.
            let published = try await app.lifecycle().enqueue(newJob(), images: [], budget: .unlimited, startNow: start)
            #expect(published.started?.upstreamKey == "default" && published.job?.status == "running")
            #expect(published.events.map(\.event.type) == ["job.queued", "job.running"])
            #expect(published.events.map(\.event.seq) == [1, 2])
            // And that was the only one: the next is left queued.
            let next = try await app.lifecycle().enqueue(newJob(), images: [], budget: .unlimited, startNow: start)
            #expect(next.started == nil && next.job?.status == "queued")
        }
    }

    /// An app whose in-process worker runs (as `serve`'s does), once it takes jobs at their admission.
    static func withRunningWorker(
        _ config: AtelierConfig? = nil, provider: FakeImageProvider = FakeImageProvider(), clock: ManualClock? = nil,
        _ body: (Application, JobWorker) async throws -> Void
    ) async throws {
        try await withTestApp(try config ?? .testing(), overrides: .init(provider: provider, clock: clock?.clock)) { app in
            let worker = app.makeJobWorker()
            app.jobWorker = worker
            let running = Task { await worker.run() }
            defer { running.cancel() }
            while !worker.acceptsStarts { await Task.yield() }
            try await body(app, worker)
        }
    }

    static func eventTypes(_ jobID: UUID, _ app: Application) async throws -> [String] {
        try await JobEventRecord.query(on: app.db).filter(\.$jobID == jobID).sort(\.$seq).all().map(\.type)
    }

    /// The job with `prompt` once it is in `status`, followed on the event hub.
    static func firstJob(_ app: Application, prompt: String, status: String) async throws -> UUID {
        let (subscription, events) = await app.atelier.hub.subscribe(.init())
        defer { Task { await app.atelier.hub.unsubscribe(subscription) } }
        if let job = try await JobRecord.query(on: app.db).filter(\.$prompt == prompt).first(), job.status == status {
            return try job.requireID()
        }
        for await event in events {
            if let job = try await JobRecord.find(event.jobID, on: app.db), job.prompt == prompt, job.status == status {
                return try job.requireID()
            }
        }
        throw CancellationError()
    }
}

extension Application {
    /// A job's row in the spend ledger: its state and what was settled.
    func ledgerEntry(of jobID: UUID) async throws -> (state: String, settled: Int64?) {
        let row = try #require(
            try await (db as! any SQLDatabase).raw(
                "SELECT state, CAST(settled_nano AS BIGINT) AS settled FROM spend_ledger WHERE job_id = \(bind: jobID)"
            ).first())
        return (try row.decode(column: "state", as: String.self), try row.decode(column: "settled", as: Int64?.self))
    }
}
