/// What a caller asks for, as received (every option optional). Field names follow the API's JSON.
public struct ImageRequestInput: Codable, Sendable, Equatable {
    public var prompt: String?
    public var model: String?
    public var n: Int?
    public var size: String?
    public var quality: String?
    public var background: String?
    public var outputFormat: String?
    public var outputCompression: Int?
    public var moderation: String?
    public var complexity: String?
    public var partialImages: Int?
    public var inputFidelity: String?
    /// GIF output (preview): frames and per-frame delay.
    public var frameCount: Int?
    public var frameDurationMs: Int?
    /// SVG output (preview): the author model and its reasoning effort.
    public var svg: SvgOptions?

    public init(
        prompt: String? = nil, model: String? = nil, n: Int? = nil, size: String? = nil, quality: String? = nil,
        background: String? = nil, outputFormat: String? = nil, outputCompression: Int? = nil,
        moderation: String? = nil, complexity: String? = nil, partialImages: Int? = nil, inputFidelity: String? = nil,
        frameCount: Int? = nil, frameDurationMs: Int? = nil, svg: SvgOptions? = nil
    ) {
        self.frameCount = frameCount
        self.frameDurationMs = frameDurationMs
        self.svg = svg
        self.prompt = prompt
        self.model = model
        self.n = n
        self.size = size
        self.quality = quality
        self.background = background
        self.outputFormat = outputFormat
        self.outputCompression = outputCompression
        self.moderation = moderation
        self.complexity = complexity
        self.partialImages = partialImages
        self.inputFidelity = inputFidelity
    }
}

/// A request that passed validation against its model: every value is one the upstream accepts.
public struct ImageParameters: Codable, Sendable, Equatable {
    public var prompt: String
    public var model: String
    public var n: Int
    public var size: String
    public var quality: String
    public var background: String
    public var outputFormat: String
    public var outputCompression: Int?
    public var moderation: String
    public var complexity: String?
    public var partialImages: Int
    public var inputFidelity: String?
    /// Set only for `output_format=gif`.
    public var frameCount: Int?
    public var frameDurationMs: Int?
    /// Only with `output_format=svg`, when the caller named an author.
    public var svg: SvgOptions?

    enum CodingKeys: String, CodingKey {
        case prompt, model, n, size, quality, background, moderation, complexity, svg
        case outputFormat = "output_format", outputCompression = "output_compression"
        case partialImages = "partial_images", inputFidelity = "input_fidelity"
        case frameCount = "frame_count", frameDurationMs = "frame_duration_ms"
    }

    /// Every key is present (unset options are `null`), except the preview-format ones, present only when set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(model, forKey: .model)
        try c.encode(n, forKey: .n)
        try c.encode(size, forKey: .size)
        try c.encode(quality, forKey: .quality)
        try c.encode(background, forKey: .background)
        try c.encode(outputFormat, forKey: .outputFormat)
        try c.encode(outputCompression, forKey: .outputCompression)
        try c.encode(moderation, forKey: .moderation)
        try c.encode(complexity, forKey: .complexity)
        try c.encode(partialImages, forKey: .partialImages)
        try c.encode(inputFidelity, forKey: .inputFidelity)
        try c.encodeIfPresent(frameCount, forKey: .frameCount)
        try c.encodeIfPresent(frameDurationMs, forKey: .frameDurationMs)
        try c.encodeIfPresent(svg, forKey: .svg)
    }

    /// Output is a GIF or an SVG (preview formats).
    public var isPreviewFormat: Bool { outputFormat == "gif" || outputFormat == "svg" }

    public init(
        prompt: String, model: String, n: Int = 1, size: String = "auto", quality: String = "auto",
        background: String = "auto", outputFormat: String = "png", outputCompression: Int? = nil,
        moderation: String = "auto", complexity: String? = nil, partialImages: Int = 0, inputFidelity: String? = nil,
        frameCount: Int? = nil, frameDurationMs: Int? = nil, svg: SvgOptions? = nil
    ) {
        self.frameCount = frameCount
        self.frameDurationMs = frameDurationMs
        self.svg = svg
        self.prompt = prompt
        self.model = model
        self.n = n
        self.size = size
        self.quality = quality
        self.background = background
        self.outputFormat = outputFormat
        self.outputCompression = outputCompression
        self.moderation = moderation
        self.complexity = complexity
        self.partialImages = partialImages
        self.inputFidelity = inputFidelity
    }
}
