extension ImageRequestInput {
    enum CodingKeys: String, CodingKey {
        case prompt, model, n, size, quality, background, moderation, complexity, format, compression
        case outputFormat = "output_format", outputCompression = "output_compression"
        case partialImages = "partial_images", inputFidelity = "input_fidelity"
        case frameCount = "frame_count", frameDurationMs = "frame_duration_ms", svg
    }

    /// Accepts the seed's short names `format` and `compression` as aliases.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            prompt: try c.decodeIfPresent(String.self, forKey: .prompt),
            model: try c.decodeIfPresent(String.self, forKey: .model),
            n: try c.decodeIfPresent(Int.self, forKey: .n),
            size: try c.decodeIfPresent(String.self, forKey: .size),
            quality: try c.decodeIfPresent(String.self, forKey: .quality),
            background: try c.decodeIfPresent(String.self, forKey: .background),
            outputFormat: try c.decodeIfPresent(String.self, forKey: .outputFormat)
                ?? c.decodeIfPresent(String.self, forKey: .format),
            outputCompression: try c.decodeIfPresent(Int.self, forKey: .outputCompression)
                ?? c.decodeIfPresent(Int.self, forKey: .compression),
            moderation: try c.decodeIfPresent(String.self, forKey: .moderation),
            complexity: try c.decodeIfPresent(String.self, forKey: .complexity),
            partialImages: try c.decodeIfPresent(Int.self, forKey: .partialImages),
            inputFidelity: try c.decodeIfPresent(String.self, forKey: .inputFidelity),
            frameCount: try c.decodeIfPresent(Int.self, forKey: .frameCount),
            frameDurationMs: try c.decodeIfPresent(Int.self, forKey: .frameDurationMs),
            svg: try c.decodeIfPresent(SvgOptions.self, forKey: .svg))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(prompt, forKey: .prompt)
        try c.encodeIfPresent(model, forKey: .model)
        try c.encodeIfPresent(n, forKey: .n)
        try c.encodeIfPresent(size, forKey: .size)
        try c.encodeIfPresent(quality, forKey: .quality)
        try c.encodeIfPresent(background, forKey: .background)
        try c.encodeIfPresent(outputFormat, forKey: .outputFormat)
        try c.encodeIfPresent(outputCompression, forKey: .outputCompression)
        try c.encodeIfPresent(moderation, forKey: .moderation)
        try c.encodeIfPresent(complexity, forKey: .complexity)
        try c.encodeIfPresent(partialImages, forKey: .partialImages)
        try c.encodeIfPresent(inputFidelity, forKey: .inputFidelity)
        try c.encodeIfPresent(frameCount, forKey: .frameCount)
        try c.encodeIfPresent(frameDurationMs, forKey: .frameDurationMs)
        try c.encodeIfPresent(svg, forKey: .svg)
    }
}
