/// Token counts the upstream reports for one call.
public struct Usage: Codable, Sendable, Equatable {
    public var inputTokens: Int
    public var inputTextTokens: Int
    public var inputImageTokens: Int
    public var outputTokens: Int
    public var outputImageTokens: Int
    public var outputTextTokens: Int
    public var totalTokens: Int
    /// SVG authoring tokens (`svg_usage`), billed at the author model's prices; nil when no SVG was authored.
    public var svg: SvgUsage?

    enum CodingKeys: String, CodingKey {
        case svg = "svg_usage"
        case inputTokens = "input_tokens", inputTextTokens = "input_text_tokens"
        case inputImageTokens = "input_image_tokens", outputTokens = "output_tokens"
        case outputImageTokens = "output_image_tokens", outputTextTokens = "output_text_tokens"
        case totalTokens = "total_tokens"
    }

    public init(
        inputTokens: Int = 0, inputTextTokens: Int = 0, inputImageTokens: Int = 0, outputTokens: Int = 0,
        outputImageTokens: Int = 0, outputTextTokens: Int = 0, totalTokens: Int? = nil, svg: SvgUsage? = nil
    ) {
        self.svg = svg
        self.inputTokens = inputTokens
        self.inputTextTokens = inputTextTokens
        self.inputImageTokens = inputImageTokens
        self.outputTokens = outputTokens
        self.outputImageTokens = outputImageTokens
        self.outputTextTokens = outputTextTokens
        self.totalTokens = totalTokens ?? inputTokens + outputTokens
    }

    public static let zero = Usage()

    /// Sums the usage of several calls (one per image when n > 1 is split, or partial streams).
    public static func + (lhs: Usage, rhs: Usage) -> Usage {
        Usage(
            inputTokens: lhs.inputTokens + rhs.inputTokens, inputTextTokens: lhs.inputTextTokens + rhs.inputTextTokens,
            inputImageTokens: lhs.inputImageTokens + rhs.inputImageTokens,
            outputTokens: lhs.outputTokens + rhs.outputTokens,
            outputImageTokens: lhs.outputImageTokens + rhs.outputImageTokens,
            outputTextTokens: lhs.outputTextTokens + rhs.outputTextTokens,
            totalTokens: lhs.totalTokens + rhs.totalTokens, svg: SvgUsage.sum(lhs.svg, rhs.svg))
    }
}

/// `svg_usage` as the upstream reports it: tokens of the model that authored the SVG.
public struct SvgUsage: Codable, Sendable, Equatable {
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int
    /// Part of `outputTokens`.
    public var reasoningTokens: Int
    public var totalTokens: Int

    enum CodingKeys: String, CodingKey {
        case model
        case inputTokens = "input_tokens", outputTokens = "output_tokens"
        case reasoningTokens = "reasoning_tokens", totalTokens = "total_tokens"
    }

    public init(model: String, inputTokens: Int, outputTokens: Int, reasoningTokens: Int = 0, totalTokens: Int? = nil) {
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.reasoningTokens = reasoningTokens
        self.totalTokens = totalTokens ?? inputTokens + outputTokens
    }

    static func sum(_ a: SvgUsage?, _ b: SvgUsage?) -> SvgUsage? {
        guard let a else { return b }
        guard let b else { return a }
        return SvgUsage(
            model: a.model, inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens,
            reasoningTokens: a.reasoningTokens + b.reasoningTokens, totalTokens: a.totalTokens + b.totalTokens)
    }
}
