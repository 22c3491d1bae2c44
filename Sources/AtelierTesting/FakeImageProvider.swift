import AtelierCore
import Foundation
import ImageProcessing

/// A scripted `ImageProvider`: each call takes the next scripted reply (an error, or images made to the
/// requested size) and records the request. With no script left it answers with synthetic images.
public actor FakeImageProvider: ImageProvider {
    public enum Reply: Sendable {
        case images(usage: Usage)
        case failure(ProviderError)
        /// Suspends until `release()` is called (or the task is canceled), then answers with images.
        case hold(usage: Usage)
        /// Streams the requested partial previews, then fails (the upstream worked, then broke off).
        case partialsThenFailure(ProviderError)
        /// Streams the requested partial previews, then holds like `hold`.
        case partialsThenHold(usage: Usage)
    }

    public private(set) var requests: [ProviderRequest] = []
    private var script: [Reply]
    private var held: [CheckedContinuation<Void, Never>] = []
    private var holdWaiters: [CheckedContinuation<Void, Never>] = []
    public static let defaultUsage = Usage(
        inputTokens: 20, inputTextTokens: 20, outputTokens: 4160, outputImageTokens: 4160)

    public init(script: [Reply] = []) { self.script = script }

    public func enqueue(_ replies: Reply...) { script += replies }

    public var callCount: Int { requests.count }

    /// How many held calls ended because their task was canceled (the worker gave the job up).
    public private(set) var canceledHolds = 0

    /// Lets every held call finish.
    public func release() {
        held.forEach { $0.resume() }
        held.removeAll()
    }

    private func releaseCanceled() {
        canceledHolds += 1
        release()
    }

    /// Waits until a call is being held.
    public func waitUntilHolding() async {
        if !held.isEmpty { return }
        await withCheckedContinuation { holdWaiters.append($0) }
    }

    public nonisolated func run(
        _ request: ProviderRequest, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) -> ProviderResult {
        let reply = await next(request)
        switch reply {
        case .failure(let error):
            throw error
        case .images(let usage):
            return try await images(for: request, usage: usage, onPartial: onPartial)
        case .hold(let usage):
            await hold()
            if Task.isCancelled { throw .canceled }
            return try await images(for: request, usage: usage, onPartial: onPartial)
        case .partialsThenFailure(let error):
            try await partials(for: request, onPartial: onPartial)
            throw error
        case .partialsThenHold(let usage):
            try await partials(for: request, onPartial: onPartial)
            await hold()
            if Task.isCancelled { throw .canceled }
            return try await images(for: request, usage: usage, onPartial: { _ in })
        }
    }

    private func next(_ request: ProviderRequest) -> Reply {
        requests.append(request)
        return script.isEmpty ? .images(usage: Self.defaultUsage) : script.removeFirst()
    }

    private func hold() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                held.append(continuation)
                holdWaiters.forEach { $0.resume() }
                holdWaiters.removeAll()
            }
        } onCancel: {
            Task { await self.releaseCanceled() }
        }
    }

    private nonisolated func partials(
        for request: ProviderRequest, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) {
        let format = ImageFormat(rawValue: request.parameters.outputFormat) ?? .png
        for index in 0..<request.parameters.partialImages {
            guard let data = try? ImageProcessing.synthesize(width: 64, height: 64, format: format, seed: UInt64(index)) else {
                throw .invalidResponse(message: "fake provider could not make a partial image")
            }
            await onPartial(ProviderPartialImage(index: index, data: data))
        }
    }

    private nonisolated func images(
        for request: ProviderRequest, usage: Usage, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) -> ProviderResult {
        let params = request.parameters
        let dims = SizeRule.dimensions(of: params.size) ?? (256, 256)
        let format = ImageFormat(rawValue: params.outputFormat) ?? .png
        try await partials(for: request, onPartial: onPartial)
        do {
            let images = try (0..<params.n).map {
                try ImageProcessing.synthesize(width: dims.0, height: dims.1, format: format, seed: UInt64($0) + 1)
            }
            return ProviderResult(
                images: images, usage: usage, requestID: "req_fake_\(UUID().uuidString.prefix(8))",
                size: "\(dims.0)x\(dims.1)", quality: params.quality == "auto" ? "high" : params.quality,
                background: "opaque", outputFormat: format.rawValue)
        } catch {
            throw .invalidResponse(message: "fake provider could not make images: \(error)")
        }
    }
}
