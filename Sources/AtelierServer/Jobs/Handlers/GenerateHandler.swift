import AtelierCore
import Foundation

/// Text to image: one upstream call, every returned image stored with a thumbnail.
struct GenerateHandler: Sendable {
    let context: WorkerContext

    func run(
        _ job: JobRecord, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws -> JobOutcome {
        let request = ProviderRequest(parameters: job.params, safetyIdentifier: SafetyIdentifier.forOwner(job.owner))
        let result = try await context.callProvider(request, kind: job.kind, onPartial: onPartial)
        return try await OutcomeBuilder(context: context, job: job).outputs(result.images, from: result)
    }
}

/// Turns a provider result into stored output images.
struct OutcomeBuilder: Sendable {
    let context: WorkerContext
    let job: JobRecord

    func outputs(_ images: [Data], from result: ProviderResult, role: ImageRecord.Role = .output) async throws -> JobOutcome {
        guard !images.isEmpty else {
            throw ProviderError.invalidResponse(message: "the upstream returned no images")
        }
        let jobID = try job.requireID()
        var records: [ImageRecord] = []
        for (index, data) in images.enumerated() {
            records.append(
                try await context.images.store(
                    data, job: jobID, owner: job.owner, role: role, index: index, attempt: job.attempts,
                    deferThumbnail: true))
        }
        return JobOutcome(
            images: records, usage: result.usage, requestID: result.requestID,
            result: Self.resultInfo(result, first: records.first))
    }

    /// What the upstream says it did; streamed answers echo the request (`auto`), so the size then comes from
    /// the image itself and the format from its bytes.
    static func resultInfo(_ result: ProviderResult, first: ImageRecord?) -> JobResultInfo {
        let measured = first.map { "\($0.width)x\($0.height)" }
        return JobResultInfo(
            size: result.size == nil || result.size == "auto" ? measured : result.size,
            quality: result.quality, background: result.background,
            outputFormat: result.outputFormat ?? first?.format)
    }
}
