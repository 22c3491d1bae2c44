import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// The compatible routes' fast path: the caller's answer is the upstream's bytes as they arrive, while the worker
/// stores and commits them behind it; a storage failure after the answer leaves a succeeded, charged, flagged job.
@Suite struct CompatFastPathTests {
    @Test func theAnswerArrivesWhileTheOutputIsStillUnstoredAndIsWhatGetsStored() async throws {
        let writes = OutputWrites(failing: false)
        try await Self.generate(writes: writes) { app, standIn, response in
            let b64 = try #require(response.json[path: "data.0.b64_json"] as? String)
            let answered = try #require(Data(base64Encoded: b64))
            #expect(answered.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            // The upstream's length is forwarded with its bytes (no chunked framing).
            #expect(response.headers.first(name: .contentLength).flatMap(Int.init) == response.body.readableBytes)
            let jobID = try #require(response.headers.first(name: "x-atelier-job-id"))
            // The output's write is held, so the job cannot have committed: the answer did not wait for it.
            #expect(try await app.job(jobID)["status"] as? String == "running")
            await writes.open()
            let job = try await app.send(.GET, "v1/jobs/\(jobID)?wait=30").json
            #expect(job["status"] as? String == "succeeded", "\(job)")
            #expect(job[path: "result.stored"] == nil && (job["cost_usd"] as? Double ?? 0) > 0)
            let url = try #require(job[path: "images.0.url"] as? String)
            let stored = try await app.send(.GET, String(url.dropFirst()))
            #expect(Data(stored.body.readableBytesView) == answered, "the stored image is the one answered")
            #expect(try await standIn.stats()["generations"] as? Int == 1, "\(job)")
            // The job stored its output only; the thumbnail is made when first asked for, once, and served.
            #expect(await writes.attempted == 1, "no thumbnail on the job's path")
            let imageID = try #require(job[path: "images.0.id"] as? String)
            let first = try await app.send(.GET, "v1/images/\(imageID)/thumbnail")
            let again = try await app.send(.GET, "v1/images/\(imageID)/thumbnail")
            #expect(first.status == .ok && first.headers.contentType?.subType == "webp")
            #expect(Data(first.body.readableBytesView).starts(with: Array("RIFF".utf8)))
            #expect(Data(again.body.readableBytesView) == Data(first.body.readableBytesView))
            #expect(await writes.attempted == 2, "the thumbnail was made and written once")
        }
    }

    @Test func aStorageFailureAfterTheAnswerEndsSucceededUnstoredChargedAndNotRunAgain() async throws {
        let writes = OutputWrites(failing: true)
        try await Self.generate(writes: writes) { app, standIn, response in
            #expect((response.json[path: "data.0.b64_json"] as? String)?.isEmpty == false)
            let jobID = try #require(response.headers.first(name: "x-atelier-job-id"))
            let job = try await app.send(.GET, "v1/jobs/\(jobID)?wait=30").json
            #expect(job["status"] as? String == "succeeded", "\(job)")
            #expect(job[path: "result.stored"] as? Bool == false)
            #expect(job[path: "error.code"] as? String == "storage_failed")
            #expect((job[path: "usage.output_tokens"] as? Int ?? 0) > 0 && (job["cost_usd"] as? Double ?? 0) > 0)
            #expect((job["images"] as? [Any])?.isEmpty == true)
            let types = try await JobEventRecord.query(on: app.db).filter(\.$jobID == UUID(uuidString: jobID)!)
                .sort(\.$seq).all().map(\.type)
            #expect(types.suffix(2) == ["job.storage_failed", "job.succeeded"], "\(types)")
            #expect(try await standIn.stats()["generations"] as? Int == 1, "never sent upstream twice")
            #expect(await writes.attempted == 1)
        }
    }

    /// One `POST /v1/images/generations` through the real client and the stand-in, with a worker running and
    /// output writes going through `writes`.
    @Test func anUpstreamBodyCutShortCutsTheCallersAnswerShort() async throws {
        try await CompatHeadFirstTests.withWorkingApp { app, standIn in
            try await standIn.inject([["kind": "truncate"]])
            // The head (200, the upstream's length) was forwarded; half the body came, then the upstream left:
            // the caller's answer ends as broken, never as a shorter body that looks whole.
            var headers: HTTPHeaders = [:]
            headers.contentType = .json
            headers.bearerAuthorization = BearerAuthorization(token: "local-tool")
            let body = #"{"prompt":"a lighthouse","model":"gpt-image-1.5","size":"1024x1024","quality":"low"}"#
            let request = TestingHTTPRequest(
                method: .POST, url: .init(path: "v1/images/generations"), headers: headers, body: ByteBuffer(string: body))
            await #expect(throws: (any Error).self) { _ = try await app.testing().performTest(request: request) }
            // The caller's answer breaks as soon as the upstream's does (before the worker has handled it): the
            // attempt is retried, not forwarded again, and the job ends before the app is torn down.
            let job = try #require(try await JobRecord.query(on: app.db).first())
            let ended = try await app.send(.GET, "v1/jobs/\(try job.requireID().uuidString.lowercased())?wait=30").json
            #expect(ended["status"] as? String == "succeeded", "\(ended)")
            #expect(try await standIn.stats()["generations"] as? Int == 2)
        }
    }

    static func generate(
        writes: OutputWrites, _ body: (Application, StandInServer, TestingHTTPResponse) async throws -> Void
    ) async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try UpstreamEndToEndTests.config(standIn), overrides: .init(blobs: HeldBlobStore(writes: writes))) {
                app in
                let worker = app.makeJobWorker()
                let running = Task { await worker.run() }
                defer { running.cancel() }
                let response = try await app.postJSON(
                    "v1/images/generations",
                    [
                        "prompt": "a lighthouse", "model": "gpt-image-1.5", "size": "1024x1024", "quality": "low",
                    ])
                #expect(response.status == .ok, "\(response.json)")
                try await body(app, standIn, response)
            }
        }
    }
}

/// Output writes that wait until opened, or fail like a full disk.
actor OutputWrites {
    let failing: Bool
    private var held: [CheckedContinuation<Void, Never>] = []
    private var opened = false
    private(set) var attempted = 0

    init(failing: Bool) { self.failing = failing }

    func arrive() async throws {
        attempted += 1
        if failing { throw BlobStoreError.io("no space left on device") }
        if opened { return }
        await withCheckedContinuation { held.append($0) }
    }

    func open() {
        opened = true
        held.forEach { $0.resume() }
        held = []
    }
}

/// A blob store whose outputs and their thumbnails go through `OutputWrites` (inputs and partials do not).
struct HeldBlobStore: BlobStore {
    let inner = InMemoryBlobStore()
    let writes: OutputWrites

    func put(_ data: Data, at key: BlobKey) async throws {
        if key.value.contains("/output-") { try await writes.arrive() }
        try await inner.put(data, at: key)
    }

    func get(_ key: BlobKey) async throws -> Data { try await inner.get(key) }
    func delete(_ key: BlobKey) async throws { try await inner.delete(key) }
    func exists(_ key: BlobKey) async throws -> Bool { try await inner.exists(key) }
}
