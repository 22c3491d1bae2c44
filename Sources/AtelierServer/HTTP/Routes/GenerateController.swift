import AtelierCore
import Fluent
import Vapor

/// `POST /v1/generate` and `POST /v1/estimate`.
struct GenerateController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.post("generate", use: create)
        routes.post("estimate", use: estimate)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let input = try req.content.decode(ImageRequestInput.self, using: JSONDecoder())
        let new = try await JobCreation(req: req).generate(input)
        return try await JobResponder(req: req).respond(new)
    }

    @Sendable func estimate(req: Request) async throws -> EstimateDTO {
        let input = try req.content.decode(ImageRequestInput.self, using: JSONDecoder())
        let validator = try await req.atelier.validator(req.db)
        let params: ImageParameters
        do { params = try validator.validate(input, for: .generations) } catch { throw error.apiError }
        let costs = req.atelier.costs
        let usage = costs.estimatedUsage(for: params)
        return EstimateDTO(
            model: params.model,
            estimatedCostUSD: usage.flatMap { costs.cost(of: $0, model: params.model) },
            usage: usage, range: Self.autoQualityRange(params, costs: costs, registry: req.atelier.registry))
    }

    /// quality=auto lets the model choose: the estimate above is the dearest case, so the studio also shows what
    /// the cheapest and dearest of the model's qualities would cost.
    static func autoQualityRange(_ params: ImageParameters, costs: CostCalculator, registry: ModelRegistry) -> EstimateDTO.Range? {
        guard params.quality == "auto", let model = registry.model(params.model) else { return nil }
        let amounts = model.qualities.filter { $0 != "auto" }.compactMap { quality -> Decimal? in
            var option = params
            option.quality = quality
            return costs.estimatedCost(for: option)
        }
        guard let low = amounts.min(), let high = amounts.max() else { return nil }
        return EstimateDTO.Range(lowUSD: low, highUSD: high)
    }
}

struct EstimateDTO: Content {
    struct Range: Content {
        var lowUSD: Decimal
        var highUSD: Decimal

        enum CodingKeys: String, CodingKey {
            case lowUSD = "low_usd", highUSD = "high_usd"
        }
    }

    var model: String
    var estimatedCostUSD: Decimal?
    var usage: Usage?
    /// With quality=auto: from the model's cheapest to its dearest quality (null otherwise).
    var range: Range?

    enum CodingKeys: String, CodingKey {
        case model, usage
        case estimatedCostUSD = "estimated_cost_usd", range = "estimated_cost_range_usd"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(estimatedCostUSD, forKey: .estimatedCostUSD)
        try c.encode(usage, forKey: .usage)
        try c.encode(range, forKey: .range)
    }
}
