import AtelierCore
import Foundation
import Testing

/// The registry as data: the bundled models.json is self-consistent, a registry file (MODEL_REGISTRY_PATH) loads,
/// an unreadable or invalid file is `RegistryError.unreadable`, and the default model can only be a current one.
@Suite struct ModelRegistryTests {
    let bundled = try! ModelRegistry.bundled()

    @Test func everyBundledModelIsConsistent() throws {
        let ids = bundled.models.map(\.id)
        #expect(Set(ids).count == ids.count, "duplicate model ids")
        #expect(bundled.model(bundled.defaultModel)?.status == .current)
        let validator = ImageRequestValidator(registry: bundled)
        for model in bundled.models {
            #expect(!model.qualities.isEmpty && !model.endpoints.isEmpty, "\(model.id)")
            #expect(model.maxN >= 1 && model.maxPromptLength > 0, "\(model.id)")
            #expect(model.prices.textInput.map { $0 > 0 } == true, "\(model.id) text_input price")
            #expect(model.prices.imageOutput.map { $0 > 0 } == true, "\(model.id) image_output price")
            #expect(Set(model.outputTokens.keys).isSubset(of: model.qualities), "\(model.id) output_tokens qualities")
            for (quality, bySize) in model.outputTokens {
                for (size, tokens) in bySize {
                    #expect(tokens > 0, "\(model.id) \(quality) \(size)")
                    let input = ImageRequestInput(prompt: "p", model: model.id, size: size, quality: quality)
                    #expect(throws: Never.self, "\(model.id) \(quality) \(size)") {
                        try validator.validate(input, for: model.endpoints[0])
                    }
                }
            }
        }
    }

    @Test func shutdownDatesParseAndReplacementsNameCurrentModels() throws {
        let date = Date.ISO8601FormatStyle().year().month().day()
        let current = Set(bundled.models.filter { $0.status == .current }.map(\.id))
        for model in bundled.models {
            if let shutdown = model.shutdownDate { _ = try date.parse(shutdown) }
            if model.status == .deprecated { #expect(model.shutdownDate != nil, "\(model.id) has no shutdown date") }
            if let replacement = model.replacement { #expect(current.contains(replacement), "\(model.id) → \(replacement)") }
        }
        for retired in bundled.retired {
            _ = try date.parse(retired.retiredOn)
            #expect(current.contains(retired.replacement), "\(retired.id) → \(retired.replacement)")
            #expect(bundled.model(retired.id) == nil, "\(retired.id) is both served and retired")
        }
    }

    @Test func aRegistryFileLoadsAndABadOneIsUnreadable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var custom = bundled
        custom.models = [try #require(bundled.model("gpt-image-2"))]
        custom.retired = []
        let file = folder.appendingPathComponent("models.json")
        try JSONEncoder().encode(custom).write(to: file)
        #expect(try ModelRegistry.load(from: file) == custom)

        let invalid = folder.appendingPathComponent("invalid.json")
        try Data(#"{"default_model": "gpt-image-2", "models": "none"}"#.utf8).write(to: invalid)
        for url in [invalid, folder.appendingPathComponent("missing.json")] {
            #expect {
                try ModelRegistry.load(from: url)
            } throws: { error in
                guard case RegistryError.unreadable(let text) = error else { return false }
                return text.contains(url.path)
            }
        }
    }

    @Test func theDefaultModelOverrideRefusesUnknownAndDeprecatedModels() throws {
        let before = ModelLifecycleTests.noon("2026-11-30")
        #expect(try bundled.withDefaultModel("gpt-image-2.6-flare", at: before).defaultModel == "gpt-image-2.6-flare")
        for id in ["no-such-model", "gpt-image-1.5", "dall-e-3"] {
            #expect(throws: RegistryError.self, "\(id)") { try bundled.withDefaultModel(id, at: before) }
        }
    }

    @Test func anOmittedQualityIsAutoWhereAllowedElseTheFirstQuality() throws {
        var model = try #require(bundled.model("gpt-image-2"))
        #expect(model.defaultQuality == "auto")
        model.qualities = ["medium", "high"]
        #expect(model.defaultQuality == "medium")
        var registry = bundled
        registry.models = [model]
        registry.defaultModel = model.id
        let resolved = try ImageRequestValidator(registry: registry).validate(.init(prompt: "p"), for: .generations)
        #expect(resolved.quality == "medium")
    }
}
