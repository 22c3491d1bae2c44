import AtelierCore
import Foundation
import Testing

/// Every model of the bundled registry × every option class: each value the registry lists is accepted, a value
/// it does not list (or a number out of range) is refused naming the field. The table comes from the registry
/// data, so a model added to or changed in models.json is covered without editing this file.
@Suite struct ValidatorMatrixTests {
    /// Pinned before the 2026-12-01 shutdowns so every bundled model is still served.
    static let registry = try! ModelRegistry.bundled().asOf(ModelLifecycleTests.noon("2026-11-15"))
    static let validator = ImageRequestValidator(registry: registry)
    static let served = registry.models.filter(\.enabled).flatMap { model in model.endpoints.map { (model, $0) } }

    /// A request for `model` with only the options under test set.
    static func input(_ model: ImageModel, _ change: (inout ImageRequestInput) -> Void = { _ in }) -> ImageRequestInput {
        var input = ImageRequestInput(prompt: "a lighthouse at dusk", model: model.id)
        change(&input)
        return input
    }

    static func refusal(
        _ input: ImageRequestInput, _ endpoint: ImageModel.Endpoint
    ) -> ValidationError? {
        do {
            _ = try validator.validate(input, for: endpoint)
            return nil
        } catch {
            return error
        }
    }

    @Test func theRegistryServesModelsOnBothEndpoints() {
        #expect(Self.served.contains { $0.1 == .generations })
        #expect(Self.served.contains { $0.1 == .edits })
    }

    @Test(arguments: served)
    func listedChoicesAreAcceptedAndOthersRefusedNamingTheField(model: ImageModel, endpoint: ImageModel.Endpoint) throws {
        let choices: [(field: String, allowed: [String], set: (inout ImageRequestInput, String) -> Void)] = [
            ("quality", model.qualities, { $0.quality = $1 }),
            ("background", model.backgrounds.filter { $0 != "transparent" }, { $0.background = $1 }),
            ("output_format", model.outputFormats, { $0.outputFormat = $1 }),
            ("moderation", model.moderations, { $0.moderation = $1 }),
            ("complexity", model.complexities, { $0.complexity = $1 }),
        ]
        for choice in choices {
            for value in choice.allowed {
                let params = try Self.validator.validate(Self.input(model) { choice.set(&$0, value) }, for: endpoint)
                let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(params)) as? [String: Any]
                #expect(encoded?[choice.field] as? String == value, "\(model.id) \(choice.field)=\(value)")
            }
            let refused = Self.refusal(Self.input(model) { choice.set(&$0, "not-a-\(choice.field)") }, endpoint)
            #expect(refused?.field == choice.field, "\(model.id) \(choice.field)")
            #expect(refused?.message.contains("Allowed: ") == true)
        }
        for value in model.previewBackgrounds ?? [] where !model.backgrounds.contains(value) {
            #expect(Self.refusal(Self.input(model) { $0.background = value }, endpoint)?.field == "background")
        }
    }

    @Test(arguments: served)
    func defaultsAreTheFirstListedWhenAutoIsNotOffered(model: ImageModel, endpoint: ImageModel.Endpoint) throws {
        let params = try Self.validator.validate(Self.input(model), for: endpoint)
        let expected = { (allowed: [String]) in allowed.contains("auto") ? "auto" : allowed.first }
        #expect(params.quality == expected(model.qualities))
        #expect(params.background == expected(model.backgrounds))
        #expect(params.moderation == expected(model.moderations))
        #expect(params.n == 1 && params.partialImages == 0 && params.outputFormat == "png")
        if model.sizes.auto { #expect(params.size == "auto") }
    }

    @Test(arguments: served)
    func countsAreBoundedByTheModel(model: ImageModel, endpoint: ImageModel.Endpoint) throws {
        for n in [1, model.maxN] { #expect(try Self.validator.validate(Self.input(model) { $0.n = n }, for: endpoint).n == n) }
        for n in [0, -1, model.maxN + 1] { #expect(Self.refusal(Self.input(model) { $0.n = n }, endpoint)?.field == "n") }
        for p in 0...model.maxPartialImages {
            #expect(try Self.validator.validate(Self.input(model) { $0.partialImages = p }, for: endpoint).partialImages == p)
        }
        for p in [-1, model.maxPartialImages + 1] {
            #expect(Self.refusal(Self.input(model) { $0.partialImages = p }, endpoint)?.field == "partial_images")
        }
        let longest = String(repeating: "a", count: model.maxPromptLength)
        #expect(try Self.validator.validate(Self.input(model) { $0.prompt = longest }, for: endpoint).prompt == longest)
        for prompt in [nil, "", "  \n", longest + "a"] {
            #expect(Self.refusal(Self.input(model) { $0.prompt = prompt }, endpoint)?.field == "prompt")
        }
    }

    @Test(arguments: served)
    func compressionOnlyForJPEGAndWebPWithinZeroToHundred(model: ImageModel, endpoint: ImageModel.Endpoint) throws {
        for format in model.outputFormats {
            let lossy = format == "jpeg" || format == "webp"
            for value in [0, 100] {
                let input = Self.input(model) {
                    $0.outputFormat = format; $0.outputCompression = value
                }
                if lossy {
                    #expect(try Self.validator.validate(input, for: endpoint).outputCompression == value)
                } else {
                    #expect(Self.refusal(input, endpoint)?.field == "output_compression")
                }
            }
            if lossy {
                for value in [-1, 101] {
                    let input = Self.input(model) {
                        $0.outputFormat = format; $0.outputCompression = value
                    }
                    #expect(Self.refusal(input, endpoint)?.field == "output_compression")
                }
            }
        }
    }

    @Test(arguments: served)
    func transparentBackgroundsNeedPNGOrWebP(model: ImageModel, endpoint: ImageModel.Endpoint) throws {
        guard model.backgrounds.contains("transparent") else { return }
        for format in model.outputFormats {
            let input = Self.input(model) {
                $0.background = "transparent"; $0.outputFormat = format
            }
            if ["png", "webp"].contains(format) {
                #expect(try Self.validator.validate(input, for: endpoint).background == "transparent")
            } else {
                #expect(Self.refusal(input, endpoint)?.field == "background")
            }
        }
    }

    @Test(arguments: served)
    func inputFidelityOnlyOnEditsAndOnlyListedValues(model: ImageModel, endpoint: ImageModel.Endpoint) throws {
        for value in model.inputFidelities {
            let input = Self.input(model) { $0.inputFidelity = value }
            if endpoint == .edits {
                #expect(try Self.validator.validate(input, for: endpoint).inputFidelity == value)
            } else {
                #expect(Self.refusal(input, endpoint)?.field == "input_fidelity")
            }
        }
        let refused = Self.refusal(Self.input(model) { $0.inputFidelity = "not-a-fidelity" }, endpoint)
        #expect(refused?.field == "input_fidelity")
        if endpoint == .edits && model.inputFidelities.isEmpty { #expect(refused?.message.contains("none (omit it)") == true) }
        if endpoint == .generations { #expect(refused?.message.contains("edits only") == true) }
    }

    @Test(arguments: served)
    func sizesFollowTheModelsRule(model: ImageModel, endpoint: ImageModel.Endpoint) throws {
        for size in model.sizes.fixed {
            #expect(try Self.validator.validate(Self.input(model) { $0.size = size }, for: endpoint).size == size)
        }
        let auto = Self.input(model) { $0.size = "auto" }
        if model.sizes.auto {
            #expect(try Self.validator.validate(auto, for: endpoint).size == "auto")
        } else {
            #expect(Self.refusal(auto, endpoint)?.field == "size")
        }
        for bogus in ["", "big", "1024", "1024x", "x1024", "0x0", "-16x16", "1024x1024x1"] {
            let refused = Self.refusal(Self.input(model) { $0.size = bogus }, endpoint)
            #expect(refused?.field == "size", "\(model.id) size '\(bogus)'")
        }
        guard let free = model.sizes.free else {
            #expect(Self.refusal(Self.input(model) { $0.size = "1040x1040" }, endpoint)?.field == "size")
            return
        }
        // The smallest square the rule allows, and the largest edge pair at the ratio limit within max_pixels.
        let side = Int((Double(free.minPixels).squareRoot() / Double(free.multipleOf)).rounded(.up)) * free.multipleOf
        #expect(try Self.validator.validate(Self.input(model) { $0.size = "\(side)x\(side)" }, for: endpoint).size == "\(side)x\(side)")
        let refusedSizes = [
            "\(side + 1)x\(side)",  // not a multiple
            "\(free.maxEdge + free.multipleOf)x\(free.multipleOf * 64)",  // edge too long
            "\(side * 4)x\(side)",  // ratio 4:1 (rules allow at most 3:1)
            "\(free.multipleOf * 8)x\(free.multipleOf * 8)",  // too few pixels
        ]
        for size in refusedSizes {
            let refused = Self.refusal(Self.input(model) { $0.size = size }, endpoint)
            #expect(refused?.field == "size", "\(model.id) size \(size)")
            #expect(refused?.message.contains("not allowed for \(model.id)") == true || refused?.message.contains("Allowed:") == true)
        }
    }

    @Test func unknownDisabledAndWrongEndpointModelsAreRefusedOnTheModelField() {
        for endpoint in [ImageModel.Endpoint.generations, .edits] {
            let unknown = Self.refusal(ImageRequestInput(prompt: "x", model: "dall-e-9"), endpoint)
            #expect(unknown?.field == "model" && unknown?.code == "unsupported_model")
            for model in Self.registry.models where !model.enabled || !model.supports(endpoint) {
                #expect(Self.refusal(ImageRequestInput(prompt: "x", model: model.id), endpoint)?.field == "model")
            }
        }
    }

    @Test func previewFormatsNeedTheServerSwitchAndTheModel() throws {
        for model in Self.registry.models where model.enabled && model.supports(.generations) {
            for format in ["gif", "svg"] where !model.outputFormats.contains(format) {
                #expect(Self.refusal(Self.input(model) { $0.outputFormat = format }, .generations)?.field == "output_format")
            }
        }
    }
}
