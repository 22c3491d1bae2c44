import AtelierCore
import Crypto
import Fluent
import Foundation
import SQLKit
import Vapor

/// An input image ready to be linked to a new job: either freshly uploaded bytes or an existing stored image.
struct JobInput: Sendable {
    enum Source: Sendable {
        case upload(Data)
        /// An uploaded file on local disk, read only when it is stored (keeps memory bounded); with its SHA-256.
        case file(URL, sha256: String)
        case stored(ImageRecord)
    }

    var role: ImageRecord.Role
    var index: Int
    var source: Source
    /// A WebP thumbnail made while the upload was checked, so it is not made twice.
    var thumbnail: Data? = nil
}

/// Creates jobs: stores the inputs' blobs, then `JobLifecycle.enqueue` commits the job, its input rows, its
/// reservation, its caller's rate-limit hit and `job.queued` together, in the app's admission group commit (one
/// transaction and one fsync for the creations that arrive together); wakes the workers. Honours Idempotency-Key.
/// With `startNow` and a free slot on this process's worker, the same transaction may also claim the job, which
/// then runs here at once (the fast path, `JobStartNow`).
struct JobEnqueuer: Sendable {
    let app: Application

    func enqueue(
        kind: JobKind, params: ImageParameters, options: EditOptions? = nil, inputs: [JobInput] = [], owner: String,
        idempotencyKey: String?, estimatedInputTokens: Int = 0, budget: SpendBudget = .unlimited, rateHit: RateHit? = nil,
        compatCaller: Bool = false, startNow: Bool = false
    ) async throws -> JobCreation.Created {
        let services = app.atelier
        let hash = try Self.requestHash(kind: kind, params: params, options: options, inputs: inputs)
        if let key = idempotencyKey, let existing = try await existingJob(owner: owner, key: key, hash: hash) {
            return .init(job: existing, created: false)
        }
        let now = services.clock.now()
        let job = JobRecord(
            owner: owner, kind: kind, params: params, options: options, maxAttempts: services.config.worker.maxAttempts,
            now: now)
        job.idempotencyKey = idempotencyKey
        job.compatCaller = compatCaller
        job.requestHash = hash
        job.estimatedCostNano = services.costs.estimatedCost(for: params, inputImageTokens: estimatedInputTokens)
            .map(CostCalculator.nanoDollars)
        let jobID = try job.requireID()
        let store = ImageStore(database: app.db, blobs: services.blobs, clock: services.clock)
        var records: [ImageRecord] = []
        let lifecycle = app.lifecycle()
        let queued: JobLifecycle.Published
        let worker = startNow ? app.jobWorker : nil
        let start = worker?.reserveStart()
        do {
            for input in inputs {
                switch input.source {
                case .upload(let data):
                    records.append(
                        try await store.store(
                            data, job: jobID, owner: owner, role: input.role, index: input.index, attempt: 0,
                            thumbnail: input.thumbnail))
                case .file(let url, _):
                    records.append(
                        try await store.store(
                            try Data(contentsOf: url), job: jobID, owner: owner, role: input.role, index: input.index,
                            attempt: 0, thumbnail: input.thumbnail))
                case .stored(let image):
                    records.append(
                        ImageRecord(
                            jobID: jobID, owner: owner, role: input.role, index: input.index, blobKey: image.blobKey,
                            thumbnailKey: image.thumbnailKey, format: image.format, width: image.width,
                            height: image.height, bytes: image.bytes, now: now))
                }
            }
            FastPathTrace.mark("committing", job: jobID, logger: app.logger)
            queued = try await lifecycle.enqueue(
                job, images: records, budget: budget, rateHit: rateHit, group: services.admissions, startNow: start)
        } catch {
            if start != nil { worker?.releaseStart() }
            if let refusal = error as? APIError, refusal.code == "spend_cap_reached" {
                await WebhookNotices(database: app.db, clock: services.clock)
                    .capReached(refusal, owner: owner, model: params.model, estimatedCostNano: job.estimatedCostNano)
            }
            for (record, input) in zip(records, inputs) {
                if case .stored = input.source { continue }
                await store.deleteBlobs(of: record)
            }
            if let key = idempotencyKey, let existing = try await existingJob(owner: owner, key: key, hash: hash) {
                return .init(job: existing, created: false)
            }
            if case .io(let problem)? = error as? BlobStoreError {
                app.logger.error("could not store a job's inputs", metadata: ["error": "\(problem)"])
                throw APIError.insufficientStorage(field: nil)
            }
            throw TransientDatabaseError.wrapping(error, during: "admission")
        }
        FastPathTrace.mark(queued.started == nil ? "committed" : "committed_started", job: jobID, logger: app.logger)
        services.metrics.jobEnqueued(kind: kind.rawValue)
        await lifecycle.deliver(queued)
        if let worker, let admitted = queued.started, let running = queued.job {
            worker.startAdmitted(running, admitted)
            return .init(job: running, created: true, images: records, eventPayload: queued.events.last?.event.payload)
        }
        if start != nil { worker?.releaseStart() }
        await services.hub.wakeWorkers()
        if !queued.workAnnounced { try? await services.relay?.announceWork() }
        return .init(job: job, created: true, images: records, eventPayload: queued.events.last?.event.payload)
    }

    private func existingJob(owner: String, key: String, hash: String) async throws -> JobRecord? {
        guard
            let existing = try await JobRecord.query(on: app.db)
                .filter(\.$owner == owner).filter(\.$idempotencyKey == key).first()
        else { return nil }
        guard existing.requestHash == hash else {
            throw APIError(
                status: .unprocessableEntity, code: "idempotency_key_reused",
                message: "This Idempotency-Key was used with a different request body; use a new key for a new request.",
                field: "Idempotency-Key")
        }
        return existing
    }

    /// What an idempotency key's replay must match: the kind, the parameters and options as `JSONEncoder` with
    /// sorted keys writes them (written by hand, `JSONBytesWriter`, the same bytes: `RequestHashTests`), the inputs.
    static func requestHash(kind: JobKind, params: ImageParameters, options: EditOptions?, inputs: [JobInput]) throws -> String {
        var hasher = SHA256()
        hasher.update(data: Data(kind.rawValue.utf8))
        var json = JSONBytesWriter(capacity: 512, escapesSlashes: true)
        if params.svg == nil {
            try json.params(params)
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            json.json(try encoder.encode(params))
        }
        hasher.update(data: json.bytes)
        json = JSONBytesWriter(capacity: 128, escapesSlashes: true)
        json.options(options)
        hasher.update(data: json.bytes)
        for input in inputs {
            hasher.update(data: Data("\(input.role.rawValue)\(input.index)".utf8))
            switch input.source {
            case .upload(let data): hasher.update(data: data)
            case .file(_, let sha256): hasher.update(data: Data(sha256.utf8))
            case .stored(let image): hasher.update(data: Data(image.blobKey.utf8))
            }
        }
        return hasher.finalize().hexString
    }
}
