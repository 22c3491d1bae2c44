import Foundation

/// Checks a request against its model so nothing the upstream would refuse is ever sent.
public struct ImageRequestValidator: Sendable {
    public let registry: ModelRegistry
    /// Preview output formats ("gif", "svg") this server lets through, for models that list them.
    public let enabledPreviewFormats: Set<String>

    public init(registry: ModelRegistry, enabledPreviewFormats: Set<String> = []) {
        self.registry = registry
        self.enabledPreviewFormats = enabledPreviewFormats
    }

    public func validate(
        _ input: ImageRequestInput, for endpoint: ImageModel.Endpoint
    ) throws(ValidationError) -> ImageParameters {
        let model = try registry.resolve(input.model, for: endpoint)
        let prompt = try validatePrompt(input.prompt, model: model)
        let n = input.n ?? 1
        guard (1...model.maxN).contains(n) else {
            throw ValidationError(field: "n", message: "n must be between 1 and \(model.maxN); got \(n).")
        }
        let size = try validateSize(input.size ?? "auto", model: model)
        let quality = try check("quality", input.quality ?? model.defaultQuality, from: model.qualities, model: model)
        let format = try validateFormat(input.outputFormat, model: model)
        let background = try pick("background", input.background, default: "auto", from: model.backgrounds, model: model)
        if background == "transparent" && !["png", "webp"].contains(format) {
            throw ValidationError(
                field: "background", message: "A transparent background needs output_format png or webp; got \(format).")
        }
        let compression = try validateCompression(input.outputCompression, format: format)
        let moderation = try pick("moderation", input.moderation, default: "auto", from: model.moderations, model: model)
        let complexity = try optionalPick("complexity", input.complexity, from: model.complexities, model: model)
        let partials = input.partialImages ?? 0
        guard (0...model.maxPartialImages).contains(partials) else {
            throw ValidationError(
                field: "partial_images",
                message: "partial_images must be between 0 and \(model.maxPartialImages); got \(partials).")
        }
        var fidelity: String?
        if endpoint == .edits {
            fidelity = try optionalPick("input_fidelity", input.inputFidelity, from: model.inputFidelities, model: model)
        } else if let value = input.inputFidelity {
            throw ValidationError(field: "input_fidelity", message: "input_fidelity '\(value)' applies to edits only.")
        }
        let preview = try previewOptions(input, format: format, n: n, partials: partials)
        return ImageParameters(
            prompt: prompt, model: model.id, n: n, size: size, quality: quality, background: background,
            outputFormat: format, outputCompression: compression, moderation: moderation, complexity: complexity,
            partialImages: partials, inputFidelity: fidelity, frameCount: preview.frameCount,
            frameDurationMs: preview.frameDurationMs, svg: preview.svg)
    }

    private func validatePrompt(_ prompt: String?, model: ImageModel) throws(ValidationError) -> String {
        guard let prompt, !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError(code: "missing_field", field: "prompt", message: "A prompt is required.")
        }
        guard prompt.count <= model.maxPromptLength else {
            throw ValidationError(
                field: "prompt",
                message: "The prompt has \(prompt.count) characters; \(model.id) accepts at most \(model.maxPromptLength).")
        }
        return prompt
    }

    private func validateSize(_ size: String, model: ImageModel) throws(ValidationError) -> String {
        let rule = model.sizes
        if size == "auto" && rule.auto { return size }
        if rule.fixed.contains(size) { return size }
        let refusal = ValidationError(
            field: "size", message: "size '\(size)' is not supported by \(model.id). Allowed: \(rule.allowedDescription).")
        guard let free = rule.free, let (width, height) = SizeRule.dimensions(of: size) else { throw refusal }
        if let problem = free.problem(width: width, height: height) {
            throw ValidationError(field: "size", message: "size '\(size)' is not allowed for \(model.id): \(problem).")
        }
        return "\(width)x\(height)"
    }

    private func validateCompression(_ value: Int?, format: String) throws(ValidationError) -> Int? {
        guard let value else { return nil }
        guard format == "jpeg" || format == "webp" else {
            throw ValidationError(
                field: "output_compression", message: "output_compression applies to jpeg and webp only; the format is \(format).")
        }
        guard (0...100).contains(value) else {
            throw ValidationError(field: "output_compression", message: "output_compression must be 0…100; got \(value).")
        }
        return value
    }

    /// What an omitted parameter becomes: `fallback` where the model allows it, else the model's first value.
    static func omitted(default fallback: String, from allowed: [String]) -> String {
        allowed.contains(fallback) ? fallback : allowed.first ?? fallback
    }

    func pick(
        _ field: String, _ value: String?, default fallback: String, from allowed: [String], model: ImageModel
    ) throws(ValidationError) -> String {
        try check(field, value ?? Self.omitted(default: fallback, from: allowed), from: allowed, model: model)
    }

    private func check(
        _ field: String, _ value: String, from allowed: [String], model: ImageModel
    ) throws(ValidationError) -> String {
        guard allowed.contains(value) else { throw .notAllowed(field, value, allowed: allowed, model: model.id) }
        return value
    }

    private func optionalPick(
        _ field: String, _ value: String?, from allowed: [String], model: ImageModel
    ) throws(ValidationError) -> String? {
        guard let value else { return nil }
        guard allowed.contains(value) else { throw .notAllowed(field, value, allowed: allowed, model: model.id) }
        return value
    }
}

extension ImageModel {
    /// The quality a request that omits `quality` runs at (`default_quality` in `GET /v1/models`).
    public var defaultQuality: String { ImageRequestValidator.omitted(default: "auto", from: qualities) }
}
