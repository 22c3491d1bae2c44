import AtelierCore
import Fluent
import Foundation
import OpenAIImages
import Vapor

/// Runs `openai_batch` batches through OpenAI's Batch API, one step per call, with all its state in the batch's
/// row (`OpenAIBatchState`), so any instance can take the next step after a restart:
/// 1. submit: the held jobs start running under the batch's holder (those whose model has shut down meanwhile
///    fail, never sent), the JSONL input is written and uploaded (file id stored), the OpenAI batch created
///    (batch id stored, batch `running`);
/// 2. poll with back-off (`pollDelay`) until the OpenAI batch is final;
/// 3. read the output and error files line by line and finish each job (`OpenAIBatchResults`), then end the jobs
///    no line answered, and the batch.
/// Each step runs under a lease (`poll_after` pushed ahead); a step that fails on the way is retried later.
struct OpenAIBatchRunner: Sendable {
    let app: Application
    let client: OpenAIBatchesClient
    /// The label of the upstream key the batches run with (the first of `OPENAI_API_KEYS`).
    let keyLabel: String
    /// How long a claimed step may run before another instance may take the batch.
    var leaseSeconds: Double = 900
    /// Tests only: called after each output or error line is applied (throw `CancellationError` to stop there,
    /// as a process that dies mid-batch would).
    var afterLine: (@Sendable (Int) throws -> Void)? = nil

    /// The first poll comes this long after creation; each later one waits 1.5 times longer, at most `maxPollDelay`.
    static let firstPollDelay = 5.0
    static let maxPollDelay = 600.0

    static func pollDelay(attempt: Int) -> Double {
        min(maxPollDelay, firstPollDelay * pow(1.5, Double(min(attempt, 40))))
    }

    /// The `lease_owner` of a batch's running jobs: `JobLifecycle.succeed` / `end` finish them with it.
    static func holder(_ batchID: UUID) -> String { "openai-batch:\(batchID.uuidString.lowercased())" }

    /// A runner over the app's upstream (the first key); nil when the app runs offline.
    init?(app: Application) {
        let config = app.atelier.config
        guard let openAI = config.openAI, let key = config.upstreamKeys.first else { return nil }
        self.app = app
        self.keyLabel = key.label
        self.client = OpenAIBatchesClient(
            httpClient: app.http.client.shared,
            configuration: OpenAIConfiguration(
                apiKey: key.apiKey, baseURL: openAI.baseURL, organization: key.organization, project: key.project,
                timeout: .seconds(openAI.timeoutSeconds)),
            logger: app.logger)
    }

    var state: OpenAIBatchState { OpenAIBatchState(database: app.db) }
    var now: Double { app.atelier.clock.now() }

    /// Takes one due batch and advances it by one step; false when none was due.
    @discardableResult
    func runNext() async throws -> Bool {
        guard let batch = try await state.claimDue(now: now, lease: leaseSeconds) else { return false }
        let batchID = try batch.requireID()
        do {
            if batch.upstreamBatchID == nil {
                try await submit(batch)
            } else {
                try await poll(batch)
            }
        } catch is CancellationError {
            throw CancellationError()  // shutting down: the lease lets the next instance take it over
        } catch let error as ProviderError where !error.isRetryable && batch.upstreamBatchID == nil {
            // Refused before the OpenAI batch existed (the file or the batch): nothing ran, the jobs fail.
            app.logger.error("openai batch refused", metadata: ["batch": "\(batchID)", "error": "\(error.code)"])
            try await results(batchID).endUnanswered(status: .failed, code: error.code, message: error.message)
            try await state.finish(batchID, status: .failed, now: now)
        } catch {
            let attempts = batch.pollAttempts + 1
            app.logger.warning(
                "openai batch step failed; trying again later", metadata: ["batch": "\(batchID)", "error": "\(error)"])
            try await state.retryLater(batchID, pollAfter: now + Self.pollDelay(attempt: attempts), attempts: attempts)
        }
        return true
    }

    func results(_ batchID: UUID) -> OpenAIBatchResults {
        OpenAIBatchResults(app: app, batchID: batchID, holder: Self.holder(batchID), keyLabel: keyLabel, afterLine: afterLine)
    }

    /// Starts the held jobs, uploads their JSONL (once: the file id is stored) and creates the OpenAI batch.
    private func submit(_ batch: BatchRecord) async throws {
        let batchID = try batch.requireID()
        let holder = Self.holder(batchID)
        guard try batch.batchStatus != .canceled else {
            // Canceled before the OpenAI batch existed: nothing runs upstream (jobs started by an earlier try end too).
            try await results(batchID).endUnanswered(status: .canceled, code: "canceled", message: "Canceled with its batch.")
            try await state.finish(batchID, status: .canceled, now: now)
            return
        }
        try await app.lifecycle().startHeldBatchJobs(batchID: batchID, holder: holder)
        var inputFileID = batch.upstreamInputFileID
        if inputFileID == nil {
            // Held past its model's shutdown date: refused here, never sent upstream (as a queued live job is).
            let shutDown = try await results(batchID).endShutDown(app.atelier.registry)
            let directory = URL(fileURLWithPath: app.atelier.config.dataDirectory).appendingPathComponent("batches")
            let input = try await OpenAIBatchInput(database: app.db, directory: directory).write(batchID: batchID, holder: holder)
            defer { try? FileManager.default.removeItem(at: input.file) }
            guard input.lines > 0 else {
                // Every job was canceled in between, or its model shut down: nothing runs upstream.
                try await state.finish(batchID, status: shutDown > 0 ? .failed : .canceled, now: now)
                return
            }
            let file = try await client.uploadBatchInput(
                filename: "atelier-batch-\(batchID.uuidString.lowercased()).jsonl", bytes: .file(input.file, byteCount: input.bytes))
            try await state.recordInputFile(batchID, fileID: file.id, now: now)
            inputFileID = file.id
        }
        // A file uploaded by an earlier step may already have its OpenAI batch (the instance died before storing
        // its id): that one is adopted, never a second one created.
        let created: OpenAIBatch
        if batch.upstreamInputFileID != nil, let earlier = try await findCreated(batchID, inputFileID: inputFileID!) {
            created = earlier
        } else {
            created = try await client.createBatch(
                inputFileID: inputFileID!, endpoint: OpenAIBatchInput.endpoint,
                metadata: ["atelier_batch_id": batchID.uuidString.lowercased()])
        }
        try await state.recordCreated(batchID, upstream: created, pollAfter: now + Self.pollDelay(attempt: 0), now: now)
        app.logger.info("openai batch created", metadata: ["batch": "\(batchID)", "upstream": "\(created.id)"])
        // Canceled while it was being sent: cancel upstream too (the next poll ends the jobs).
        if try await BatchRecord.find(batchID, on: app.db)?.batchStatus == .canceled {
            try await cancelUpstream(created.id, batchID: batchID)
        }
    }

    /// The OpenAI batch made from `inputFileID` for this batch, among the newest 500.
    private func findCreated(_ batchID: UUID, inputFileID: String) async throws -> OpenAIBatch? {
        var after: String?
        for _ in 0..<5 {
            let page = try await client.listBatches(after: after)
            if let found = page.data.first(where: {
                $0.inputFileID == inputFileID && $0.metadata?["atelier_batch_id"] == batchID.uuidString.lowercased()
            }) {
                return found
            }
            guard page.hasMore, let last = page.lastID else { return nil }
            after = last
        }
        return nil
    }

    /// Reads the OpenAI batch; once it is final, applies its files and ends the batch.
    private func poll(_ batch: BatchRecord) async throws {
        let batchID = try batch.requireID()
        guard let upstreamID = batch.upstreamBatchID else { return }
        var remote = try await client.batch(upstreamID)
        if try batch.batchStatus == .canceled && !remote.status.isFinal && remote.status != .cancelling {
            remote = try await client.cancelBatch(upstreamID)
        }
        guard remote.status.isFinal else {
            let attempts = batch.pollAttempts + 1
            try await state.recordPoll(
                batchID, upstream: remote, pollAfter: now + Self.pollDelay(attempt: attempts), attempts: attempts, now: now)
            return
        }
        try await state.recordPoll(batchID, upstream: remote, pollAfter: now + leaseSeconds, attempts: batch.pollAttempts, now: now)
        let results = results(batchID)
        try await results.apply(remote, client: client)
        let ending = OpenAIBatchResults.unansweredEnding(remote)
        try await results.endUnanswered(status: ending.status, code: ending.code, message: ending.message)
        let status: BatchStatus =
            switch remote.status {
            case .cancelled: .canceled
            case .failed: .failed
            default: .completed
            }
        try await state.finish(batchID, status: status, now: now)
        for file in [remote.inputFileID, remote.outputFileID, remote.errorFileID].compactMap({ $0 }) {
            try? await client.deleteFile(file)  // the results are Atelier's now; OpenAI need not keep them
        }
    }

    /// `POST /batches/{id}/cancel` (the OpenAI batch ends `cancelled`; lines that already ran are still delivered).
    func cancelUpstream(_ upstreamID: String, batchID: UUID) async throws {
        let remote = try await client.cancelBatch(upstreamID)
        try await state.recordPoll(batchID, upstream: remote, pollAfter: now, attempts: 0, now: now)
    }
}
