import AtelierCore
import Foundation
import ImageProcessing

/// Makes deterministic synthetic images locally when no OpenAI key is configured ("offline demo").
/// Real PNG/JPEG/WebP files of the requested size (animated GIFs and SVG documents for the preview formats);
/// usage follows the registry's token tables.
public struct OfflineImageProvider: ImageProvider {
    let registry: ModelRegistry

    public init(registry: ModelRegistry) { self.registry = registry }

    public func run(
        _ request: ProviderRequest, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) -> ProviderResult {
        let params = request.parameters
        let (width, height) = Self.dimensions(params.size, fallback: request.images.first)
        let format = ImageFormat(rawValue: params.outputFormat) ?? .png
        let seed = Self.seed(params.prompt)
        do {
            for index in 0..<params.partialImages {
                try Task.checkCancellation()
                let data = try ImageProcessing.synthesize(
                    width: width / 4, height: height / 4, format: format, seed: seed &+ UInt64(index) &* 7919)
                await onPartial(ProviderPartialImage(index: index, data: data))
            }
            var images: [Data] = []
            for index in 0..<params.n {
                try Task.checkCancellation()
                let picture = { (salt: UInt64) in
                    try ImageProcessing.synthesize(
                        width: width, height: height, format: format, seed: seed &+ UInt64(index) &+ salt,
                        transparent: params.background == "transparent", compression: params.outputCompression)
                }
                switch params.outputFormat {
                case "gif":
                    let frames = try (0..<(params.frameCount ?? 9)).map { try picture(UInt64($0) &* 104_729) }
                    images.append(try ImageProcessing.animatedGIF(frames: frames, frameDurationMs: params.frameDurationMs ?? 200))
                case "svg": images.append(ImageProcessing.synthesizeSVG(width: width, height: height, seed: seed &+ UInt64(index)))
                default: images.append(try picture(0))
                }
            }
            let usage = CostCalculator(registry: registry).estimatedUsage(for: params)
            return ProviderResult(
                images: images, usage: usage, requestID: "offline-\(UUID().uuidString.prefix(12).lowercased())",
                size: "\(width)x\(height)", quality: params.quality == "auto" ? "high" : params.quality,
                background: params.background == "transparent" ? "transparent" : "opaque",
                outputFormat: params.outputFormat)
        } catch is CancellationError {
            throw .canceled
        } catch {
            throw .invalidResponse(message: "the offline generator failed: \(error)")
        }
    }

    static func dimensions(_ size: String, fallback: ImageUpload?) -> (Int, Int) {
        if let dims = SizeRule.dimensions(of: size) { return dims }
        if let fallback, let data = try? fallback.bytes.load(), let info = try? ImageProcessing.probe(data) {
            return (info.width, info.height)
        }
        return (1024, 1024)
    }

    /// FNV-1a of the prompt: the same prompt always gives the same picture.
    static func seed(_ prompt: String) -> UInt64 {
        prompt.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
