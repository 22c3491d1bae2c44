import AtelierCore
import Foundation

/// Several upstream keys (`OPENAI_API_KEYS`): each call goes out with the key its `upstreamKey` label names
/// (the first key when the label is nil or unknown). Labels are what logs, jobs and metrics show; secrets stay here.
public struct OpenAIKeyedImageProvider: ImageProvider {
    public let providers: [(label: String, provider: OpenAIImageProvider)]

    public init(providers: [(label: String, provider: OpenAIImageProvider)]) {
        precondition(!providers.isEmpty, "at least one upstream key")
        self.providers = providers
    }

    public func run(
        _ request: ProviderRequest, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) -> ProviderResult {
        let chosen = providers.first { $0.label == request.upstreamKey } ?? providers[0]
        return try await chosen.provider.run(request, onPartial: onPartial)
    }
}

extension OpenAIKeyedImageProvider: UpstreamModelLister {
    /// The model list as the first key sees it (`atelier models check`); every key of one organization sees the same.
    public func listModels() async throws(ProviderError) -> [UpstreamModel] { try await providers[0].provider.listModels() }
}
