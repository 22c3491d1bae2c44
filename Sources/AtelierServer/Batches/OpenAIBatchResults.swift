import AtelierCore
import Fluent
import Foundation
import OpenAIImages
import SQLKit
import Vapor

/// Turns an OpenAI batch's output and error lines into ordinary job endings: a 2xx line's images are stored as a
/// live job's are and the job succeeds with its usage at the batch price (`CostCalculator.batchCost`); any other
/// line fails its job with the upstream's error and releases its reservation. Applying a line twice changes
/// nothing: a job is finished only while it is `running` under the batch's holder, and its blob keys are the same
/// each time. Memory: one line at a time.
struct OpenAIBatchResults: Sendable {
    let app: Application
    let batchID: UUID
    let holder: String
    let keyLabel: String
    var afterLine: (@Sendable (Int) throws -> Void)?

    func apply(_ remote: OpenAIBatch, client: OpenAIBatchesClient) async throws {
        var applied = 0
        for file in [remote.outputFileID, remote.errorFileID].compactMap({ $0 }) {
            try await client.forEachLine(ofFile: file) { data in
                guard let line = OpenAIBatchOutputLine(data) else {
                    app.logger.warning("skipping a batch output line that is not one", metadata: ["batch": "\(batchID)"])
                    return
                }
                try await apply(line)
                applied += 1
                try afterLine?(applied)
            }
        }
    }

    func apply(_ line: OpenAIBatchOutputLine) async throws {
        guard let jobID = UUID(uuidString: line.customID), let job = try await JobRecord.find(jobID, on: app.db),
            job.batchID == batchID, job.status == JobStatus.running.rawValue, job.leaseOwner == holder
        else { return }  // already applied, or not one of this batch's running jobs
        let lifecycle = app.lifecycle()
        switch line.outcome() {
        case .success(let result) where !result.images.isEmpty:
            let store = ImageStore(database: app.db, blobs: app.atelier.blobs, clock: app.atelier.clock)
            var images: [ImageRecord] = []
            for (index, data) in result.images.enumerated() {
                images.append(
                    try await store.store(
                        data, job: jobID, owner: job.owner, role: .output, index: index, attempt: job.attempts, deferThumbnail: true))
            }
            let outcome = JobOutcome(
                images: images, usage: result.usage, requestID: result.requestID,
                result: OutcomeBuilder.resultInfo(result, first: images.first))
            // A model without a batch discount in the registry is charged its full price, never less.
            let costs = app.atelier.costs
            let cost = result.usage.flatMap { costs.batchCost(of: $0, model: job.model) ?? costs.cost(of: $0, model: job.model) }
                .map(CostCalculator.nanoDollars)
            let success = JobLifecycle.Success(outcome: outcome, costNano: cost, upstreamKey: keyLabel)
            guard let succeeded = try await lifecycle.succeed(jobID, kind: .generate, workerID: holder, with: success) else { return }
            app.atelier.metrics.spend(model: job.model, nanoDollars: cost ?? 0, images: images.count)
            app.atelier.metrics.upstreamSpend(key: keyLabel, nanoDollars: cost ?? 0, images: images.count)
            await lifecycle.deliver(succeeded)
        case .success:
            try await end(jobID, .failed, error: .invalidResponse(message: "the batch output line has no images"))
        case .failure where line.errorCode == "batch_cancelled":
            try await end(jobID, .canceled, code: "canceled", message: "Canceled with its batch.")
        case .failure(let error):
            try await end(jobID, .failed, error: error)
        }
    }

    /// Ends the batch's jobs that are still running (no line answered them), a page at a time.
    func endUnanswered(status: JobStatus, code: String, message: String) async throws {
        while true {
            let ids = try await app.db.sql.raw(
                """
                SELECT id FROM jobs WHERE batch_id = \(bind: batchID) AND status = 'running' AND lease_owner = \(bind: holder) LIMIT 200
                """
            ).all().map { try $0.decode(column: "id", as: UUID.self) }
            if ids.isEmpty { return }
            for id in ids { try await end(id, status, code: code, message: message) }
        }
    }

    /// Fails the batch's started jobs whose model has shut down (`registry` as it stands now) before the input
    /// file is written, so none is sent upstream: each names the replacement and its reservation is released, as
    /// a live job claimed after the date is. Returns how many.
    func endShutDown(_ registry: ModelRegistry) async throws -> Int {
        let shutDown = registry.retired.map(\.id)
        guard !shutDown.isEmpty else { return 0 }
        var ended = 0
        while true {
            let rows = try await app.db.sql.raw(
                """
                SELECT id, model FROM jobs WHERE batch_id = \(bind: batchID) AND status = 'running' AND lease_owner = \(bind: holder)
                    AND model IN (\(binds: shutDown)) LIMIT 200
                """
            ).all()
            if rows.isEmpty { return ended }
            for row in rows {
                let model = try row.decode(column: "model", as: String.self)
                guard let refusal = registry.retirement(of: model) else { continue }
                try await end(try row.decode(column: "id", as: UUID.self), .failed, code: refusal.code, message: refusal.message)
                ended += 1
            }
        }
    }

    private func end(_ jobID: UUID, _ status: JobStatus, error: ProviderError) async throws {
        let shown = CorrelatedError.publicMessage(
            code: error.code, detail: error.message, logger: app.logger, metadata: ["job": "\(jobID)"])
        try await end(jobID, status, code: error.code, message: shown)
    }

    /// Nothing was charged for a line that did not run or was refused: the reservation is released.
    private func end(_ jobID: UUID, _ status: JobStatus, code: String, message: String) async throws {
        let ending = JobLifecycle.Ending(
            status: status, code: code, message: message, retryable: false, costNano: nil, release: true, upstreamKey: keyLabel)
        let lifecycle = app.lifecycle()
        guard let ended = try await lifecycle.end(jobID, workerID: holder, ending) else { return }
        await lifecycle.deliver(ended)
    }

    /// How the jobs without a line end, by the OpenAI batch's final status.
    static func unansweredEnding(_ remote: OpenAIBatch) -> (status: JobStatus, code: String, message: String) {
        switch remote.status {
        case .cancelled: return (.canceled, "canceled", "Canceled with its batch.")
        case .expired: return (.failed, "batch_expired", "The OpenAI batch expired (its 24 h window ended) before this request ran.")
        case .failed:
            let first = remote.validationErrors.first
            let detail = first.map { "line \($0.line ?? 0): \($0.message ?? $0.code ?? "invalid")" } ?? "no reason given"
            return (.failed, first?.code ?? "batch_failed", "OpenAI refused the batch's input file (\(detail)).")
        default:
            return (.failed, "upstream_invalid_response", "The OpenAI batch ended without a line for this request.")
        }
    }
}
