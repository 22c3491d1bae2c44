import Foundation

/// Exact cost from token counts and the registry's per-1M-token prices, in USD.
/// Amounts are `Decimal` so sums are exact; storage uses whole nano-dollars.
public struct CostCalculator: Sendable {
    public let registry: ModelRegistry

    public init(registry: ModelRegistry) { self.registry = registry }

    /// text_in × p + image_in × p + image_out × p (+ text_out × p where the model bills text output).
    /// nil when the model has no known price for a token class that was used.
    public func cost(of usage: Usage, model id: String) -> Decimal? {
        guard let prices = registry.model(id)?.prices else { return nil }
        let lines: [(Int, Decimal?)] = [
            (usage.inputTextTokens, prices.textInput), (usage.inputImageTokens, prices.imageInput),
            (usage.outputImageTokens, prices.imageOutput), (usage.outputTextTokens, prices.textOutput),
        ]
        var total = Decimal(0)
        for (tokens, price) in lines where tokens > 0 {
            guard let price else { return nil }
            total += Decimal(tokens) * price / 1_000_000
        }
        guard let svg = usage.svg else { return total }
        guard let svgCost = svgCost(of: svg) else { return nil }
        return total + svgCost
    }

    /// The cost of a request run through OpenAI's Batch API: the image model's token lines at
    /// `price × (1 − batch_discount)` (exact in `Decimal`), plus any `svg_usage` at its author's full prices.
    /// nil when the model has no `batch_discount` or a used token class has no price.
    public func batchCost(of usage: Usage, model id: String) -> Decimal? {
        guard let discount = registry.model(id)?.batchDiscount, discount >= 0, discount <= 1 else { return nil }
        var tokensOnly = usage
        tokensOnly.svg = nil
        guard let full = cost(of: tokensOnly, model: id) else { return nil }
        let total = full * (1 - discount)
        guard let svg = usage.svg else { return total }
        return svgCost(of: svg).map { total + $0 }
    }

    /// `svg_usage` at its author's prices from the registry's `svg_authoring` (reasoning is part of output tokens);
    /// nil when the author or a needed price is unknown.
    public func svgCost(of usage: SvgUsage) -> Decimal? {
        guard let prices = registry.svgAuthoring?.author(usage.model)?.prices else { return nil }
        var total = Decimal(0)
        for (tokens, price) in [(usage.inputTokens, prices.input), (usage.outputTokens, prices.output)] where tokens > 0 {
            guard let price else { return nil }
            total += Decimal(tokens) * price / 1_000_000
        }
        return total
    }

    /// Tokens expected for a request before it runs (text estimated at ~4 characters a token).
    public func estimatedUsage(for params: ImageParameters, inputImageTokens: Int = 0) -> Usage? {
        guard let model = registry.model(params.model),
            let perImage = outputTokensPerImage(model: model, quality: params.quality, size: params.size)
        else { return nil }
        let text = max(1, (params.prompt.count + 3) / 4)
        let partials = params.partialImages * registry.partialImageOutputTokens
        // A GIF is estimated as one image per frame.
        let output = (perImage * (params.frameCount ?? 1) + partials) * params.n
        return Usage(
            inputTokens: text + inputImageTokens, inputTextTokens: text, inputImageTokens: inputImageTokens,
            outputTokens: output, outputImageTokens: output, svg: estimatedSvgUsage(for: params))
    }

    /// The registry's `svg_authoring.estimated_tokens` for the named author (or the default one).
    func estimatedSvgUsage(for params: ImageParameters) -> SvgUsage? {
        guard params.outputFormat == "svg", let authoring = registry.svgAuthoring else { return nil }
        return SvgUsage(
            model: params.svg?.model ?? authoring.defaultAuthor, inputTokens: authoring.estimatedTokens.input,
            outputTokens: authoring.estimatedTokens.output)
    }

    public func estimatedCost(for params: ImageParameters, inputImageTokens: Int = 0) -> Decimal? {
        estimatedUsage(for: params, inputImageTokens: inputImageTokens).flatMap { cost(of: $0, model: params.model) }
    }

    /// From the registry's table; `auto` quality is estimated as high (the dearest common case) and `auto` size
    /// as 1024x1024; sizes missing from the table scale the 1024x1024 figure by pixel area.
    func outputTokensPerImage(model: ImageModel, quality: String, size: String) -> Int? {
        let quality = quality == "auto" ? "high" : quality
        let table = model.outputTokens[quality] ?? model.outputTokens["high"]
        guard let table else { return nil }
        let size = size == "auto" ? "1024x1024" : size
        if let exact = table[size] { return exact }
        guard let base = table["1024x1024"], let (w, h) = SizeRule.dimensions(of: size) else { return nil }
        return Int((Double(base) * Double(w * h) / Double(1024 * 1024)).rounded(.up))
    }

    /// Whole nano-dollars (1e-9 USD), the unit stored in the database.
    public static func nanoDollars(_ amount: Decimal) -> Int64 {
        var scaled = amount * 1_000_000_000
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    public static func dollars(nano: Int64) -> Decimal { Decimal(nano) / 1_000_000_000 }
}
