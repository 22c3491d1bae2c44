import AtelierCore
import Foundation

/// `ImageProvider` over OpenAI's Images API: maps domain requests to wire fields and results back.
public struct OpenAIImageProvider: ImageProvider {
    public let client: OpenAIImagesClient

    public init(client: OpenAIImagesClient) {
        self.client = client
    }

    /// The wire fields for a validated request (only what is set; no `response_format`).
    public static func fields(for request: ProviderRequest) -> ImagesRequestFields {
        let p = request.parameters
        return ImagesRequestFields(
            prompt: p.prompt, model: p.model, n: p.n, size: p.size, quality: p.quality, background: p.background,
            outputFormat: p.outputFormat, outputCompression: p.outputCompression,
            moderation: request.isEdit ? nil : p.moderation,
            inputFidelity: request.isEdit ? p.inputFidelity : nil, complexity: p.complexity,
            partialImages: p.partialImages > 0 ? p.partialImages : nil, safetyIdentifier: request.safetyIdentifier,
            frameCount: p.frameCount, frameDurationMs: p.frameDurationMs, svg: p.svg)
    }

    public func run(
        _ request: ProviderRequest, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) -> ProviderResult {
        let fields = Self.fields(for: request)
        let tap = request.responseTap
        guard request.isEdit else { return try await client.generate(fields, tap: tap, onPartial: onPartial) }
        return try await client.edit(
            fields, images: request.images, mask: request.mask, markup: request.markup, tap: tap, onPartial: onPartial)
    }
}

extension OpenAIImageProvider: UpstreamModelLister {
    public func listModels() async throws(ProviderError) -> [UpstreamModel] { try await client.listModels() }
}
