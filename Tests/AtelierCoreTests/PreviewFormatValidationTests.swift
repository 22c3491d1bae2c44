import AtelierCore
import Foundation
import Testing

/// GIF and SVG output: refused unless enabled and listed for the model; their options checked with field errors.
@Suite struct PreviewFormatValidationTests {
    static let registry = try! ModelRegistry.bundled()
    static let enabled = ImageRequestValidator(registry: registry, enabledPreviewFormats: ["gif", "svg"])

    static func input(_ format: String, model: String = "gpt-image-2", _ change: (inout ImageRequestInput) -> Void = { _ in })
        -> ImageRequestInput
    {
        var input = ImageRequestInput(prompt: "a spinning top", model: model, outputFormat: format)
        change(&input)
        return input
    }

    static func refusal(
        _ input: ImageRequestInput, _ validator: ImageRequestValidator = enabled, endpoint: ImageModel.Endpoint = .generations
    )
        -> ValidationError?
    {
        do {
            _ = try validator.validate(input, for: endpoint)
            return nil
        } catch { return error }
    }

    @Test func previewFormatsAreRefusedUntilTheServerEnablesThem() {
        let off = ImageRequestValidator(registry: Self.registry)
        let error = Self.refusal(Self.input("gif"), off)
        #expect(error?.field == "output_format" && error?.code == "preview_not_enabled")
        #expect(error?.message.contains("OPENAI_PREVIEW_FORMATS") == true)
        let svgOnly = ImageRequestValidator(registry: Self.registry, enabledPreviewFormats: ["svg"])
        #expect(Self.refusal(Self.input("gif"), svgOnly)?.field == "output_format")
        #expect(Self.refusal(Self.input("svg"), svgOnly) == nil)
    }

    @Test func aModelWithoutTheFormatRefusesItEvenWhenEnabled() {
        let error = Self.refusal(Self.input("gif", model: "gpt-image-1.5"))
        #expect(error?.field == "output_format" && error?.code == "invalid_value")
        #expect(error?.message.contains("Allowed: png, jpeg, webp") == true)
    }

    @Test func gifDefaultsAndBounds() throws {
        let params = try Self.enabled.validate(Self.input("gif"), for: .generations)
        #expect(params.frameCount == 9 && params.frameDurationMs == 200 && params.svg == nil)
        let custom = try Self.enabled.validate(
            Self.input("gif") {
                $0.frameCount = 16; $0.frameDurationMs = 20
            }, for: .edits)
        #expect(custom.frameCount == 16 && custom.frameDurationMs == 20)
        for (count, duration, field) in [
            (1, 200, "frame_count"), (17, 200, "frame_count"), (9, 10, "frame_duration_ms"),
            (9, 10_001, "frame_duration_ms"),
        ] {
            let error = Self.refusal(
                Self.input("gif") {
                    $0.frameCount = count; $0.frameDurationMs = duration
                })
            #expect(error?.field == field, "\(count) \(duration)")
        }
    }

    @Test func gifAndSvgRefuseStreamingCompressionAndTransparency() {
        for format in ["gif", "svg"] {
            #expect(Self.refusal(Self.input(format) { $0.partialImages = 2 })?.field == "partial_images")
            #expect(Self.refusal(Self.input(format) { $0.outputCompression = 80 })?.field == "output_compression")
        }
        #expect(Self.refusal(Self.input("gif", model: "gpt-image-1.5") { $0.background = "transparent" })?.field != nil)
    }

    @Test func optionsOfOneFormatAreRefusedWithAnother() {
        #expect(Self.refusal(Self.input("png") { $0.frameCount = 4 })?.field == "frame_count")
        #expect(Self.refusal(Self.input("svg") { $0.frameDurationMs = 100 })?.field == "frame_duration_ms")
        #expect(Self.refusal(Self.input("gif") { $0.svg = SvgOptions(model: "gpt-5.6-terra") })?.field == "svg")
    }

    @Test func svgNeedsOneImageAndAKnownAuthorAndEffort() throws {
        #expect(Self.refusal(Self.input("svg") { $0.n = 2 })?.field == "n")
        #expect(Self.refusal(Self.input("svg") { $0.svg = SvgOptions(model: "gpt-4o") })?.field == "svg.model")
        let effort = Self.refusal(Self.input("svg") { $0.svg = SvgOptions(model: "gpt-5.6-terra", reasoningEffort: "minimal") })
        #expect(effort?.field == "svg.reasoning.effort" && effort?.message.contains("none, low") == true)
        #expect(Self.refusal(Self.input("svg") { $0.svg = SvgOptions(reasoningEffort: "low") })?.field == "svg.model")
        let params = try Self.enabled.validate(
            Self.input("svg") { $0.svg = SvgOptions(model: "gpt-5.6-luna", reasoningEffort: "high") }, for: .generations)
        #expect(params.svg == SvgOptions(model: "gpt-5.6-luna", reasoningEffort: "high") && params.frameCount == nil)
    }

    @Test func theSvgObjectDecodesFromTheWireShapeAndParametersEncodeItOnlyWhenSet() throws {
        let json = #"{"prompt":"p","output_format":"svg","svg":{"model":"gpt-5.6-sol","reasoning":{"effort":"max"}}}"#
        let input = try JSONDecoder().decode(ImageRequestInput.self, from: Data(json.utf8))
        #expect(input.svg == SvgOptions(model: "gpt-5.6-sol", reasoningEffort: "max"))
        let plain =
            try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(ImageParameters(prompt: "p", model: "gpt-image-2"))) as? [String: Any]
        #expect(plain?.keys.contains("svg") == false && plain?.keys.contains("frame_count") == false)
        let svg =
            try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(
                    ImageParameters(prompt: "p", model: "gpt-image-2", outputFormat: "svg", svg: input.svg))) as? [String: Any]
        #expect((svg?["svg"] as? [String: Any])?["reasoning"] as? [String: String] == ["effort": "max"])
    }

    @Test func svgUsageIsPricedFromTheRegistryAndAddedToTheCost() throws {
        let costs = CostCalculator(registry: Self.registry)
        let image = Usage(inputTokens: 10, inputTextTokens: 10, outputTokens: 200, outputImageTokens: 200)
        var withSvg = image
        withSvg.svg = SvgUsage(model: "gpt-5.6-terra", inputTokens: 1_000, outputTokens: 4_000, reasoningTokens: 1_000)
        let base = try #require(costs.cost(of: image, model: "gpt-image-2"))
        let total = try #require(costs.cost(of: withSvg, model: "gpt-image-2"))
        // gpt-5.6-terra: $2.50 in, $15 out per 1M tokens (registry svg_authoring).
        #expect(total - base == Decimal(1_000) * Decimal(2.5) / 1_000_000 + Decimal(4_000) * 15 / 1_000_000)
        withSvg.svg?.model = "unknown-author"
        #expect(costs.cost(of: withSvg, model: "gpt-image-2") == nil)
    }

    @Test func estimatesCountGifFramesAndTheSvgAuthor() throws {
        let costs = CostCalculator(registry: Self.registry)
        let png = try Self.enabled.validate(
            Self.input("png") {
                $0.quality = "low"; $0.size = "1024x1024"
            }, for: .generations)
        let gif = try Self.enabled.validate(
            Self.input("gif") {
                $0.quality = "low"; $0.size = "1024x1024"; $0.frameCount = 4
            }, for: .generations)
        let pngOut = try #require(costs.estimatedUsage(for: png)).outputImageTokens
        #expect(try #require(costs.estimatedUsage(for: gif)).outputImageTokens == pngOut * 4)
        let svg = try Self.enabled.validate(Self.input("svg"), for: .generations)
        let usage = try #require(costs.estimatedUsage(for: svg))
        #expect(usage.svg?.model == Self.registry.svgAuthoring?.defaultAuthor && (usage.svg?.outputTokens ?? 0) > 0)
        #expect(try #require(costs.estimatedCost(for: svg)) > costs.estimatedCost(for: png)!)
    }
}
