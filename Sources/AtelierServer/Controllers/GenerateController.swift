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
        let (job, created) = try await enqueue(input, req: req)
        return try await JobResponder(req: req).respond(job: job, created: created)
    }

    /// Validates, admits (kill switch, limits, caps) and enqueues a generate job.
    func enqueue(_ input: ImageRequestInput, req: Request) async throws -> (job: JobRecord, created: Bool) {
        let params = try await validated(input, req: req)
        let budget = try await JobAdmission(req: req).admit(params)
        return try await JobEnqueuer(app: req.application).enqueue(
            kind: .generate, params: params, owner: req.owner, idempotencyKey: req.idempotencyKey, budget: budget)
    }

    @Sendable func estimate(req: Request) async throws -> EstimateDTO {
        let input = try req.content.decode(ImageRequestInput.self, using: JSONDecoder())
        let params = try await validated(input, req: req)
        let usage = req.atelier.costs.estimatedUsage(for: params)
        return EstimateDTO(
            model: params.model,
            estimatedCostUSD: usage.flatMap { req.atelier.costs.cost(of: $0, model: params.model) },
            usage: usage)
    }

    private func validated(_ input: ImageRequestInput, req: Request) async throws -> ImageParameters {
        let validator = try await req.atelier.validator(req.db)
        do { return try validator.validate(input, for: .generations) } catch { throw error.apiError }
    }
}

struct EstimateDTO: Content {
    var model: String
    var estimatedCostUSD: Decimal?
    var usage: Usage?

    enum CodingKeys: String, CodingKey {
        case model, usage
        case estimatedCostUSD = "estimated_cost_usd"
    }
}

extension Request {
    /// Who owns what this request creates and may see: the signed-in user's id (lowercase), "local" when login
    /// is off. Without a caller it matches nothing.
    var owner: String { caller?.owner ?? "\u{0}anonymous" }

    var idempotencyKey: String? {
        guard let key = headers.first(name: "Idempotency-Key")?.trimmingCharacters(in: .whitespaces), !key.isEmpty
        else { return nil }
        return String(key.prefix(200))
    }
}
