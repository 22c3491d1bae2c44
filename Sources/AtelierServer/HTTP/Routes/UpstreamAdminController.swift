import Foundation
import Vapor

/// `/v1/admin/upstream` (admins only): the upstream keys by label, why any is stopped, the (key, model) lanes
/// paused for the rate limit and the pacing limits; `POST …/keys/{label}/resume` lets a stopped key work again.
struct UpstreamAdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let upstream = routes.grouped("admin", "upstream")
        upstream.get(use: overview)
        upstream.post("keys", ":label", "resume", use: resume)
        upstream.put("limits", use: setLimit)
    }

    /// `{"key": label | null, "model": id | "*", "images_per_window": N | null, "requests_per_window": N | null}`;
    /// both limits null removes the rule. Applies to the next admission on every worker and instance.
    @Sendable func setLimit(req: Request) async throws -> Response {
        let body: UpstreamOverview.Limit
        do { body = try req.content.decode(UpstreamOverview.Limit.self) } catch {
            throw APIError.invalid(
                nil,
                "The body must be {\"key\": label or null, \"model\": a model id or \"*\", \"images_per_window\": 1…1000000 or null, \"requests_per_window\": 1…1000000 or null}."
            )
        }
        let gate = req.application.upstreamGate()
        if let key = body.key, !gate.keyLabels.contains(key) {
            throw APIError.invalid(
                "key", "Unknown upstream key '\(key)'; the keys are \(gate.keyLabels.joined(separator: ", ")), or null for every key.")
        }
        if body.model != "*" && req.atelier.registry.model(body.model) == nil {
            throw APIError.invalid(
                "model", "The registry has no model '\(body.model)'; name one of GET /v1/models or \"*\" for every model.")
        }
        for (field, value) in [("images_per_window", body.imagesPerWindow), ("requests_per_window", body.requestsPerWindow)] {
            if let value, !(1...1_000_000).contains(value) {
                throw APIError.invalid(field, "\(field) must be a whole number in 1…1000000, or null for no limit.")
            }
        }
        try await gate.store(
            .init(
                key: body.key, model: body.model, imagesPerWindow: body.imagesPerWindow, requestsPerWindow: body.requestsPerWindow))
        return try Self.encoded(try await gate.overview())
    }

    @Sendable func overview(req: Request) async throws -> Response {
        try Self.encoded(try await req.application.upstreamGate().overview())
    }

    @Sendable func resume(req: Request) async throws -> Response {
        let gate = req.application.upstreamGate()
        guard let label = req.parameters.get("label"), gate.keyLabels.contains(label) else {
            throw APIError.notFound("upstream key")
        }
        try await gate.setStatus(.active, key: label, message: nil)
        req.logger.notice("upstream key resumed by an admin", metadata: ["upstream_key": "\(label)"])
        await req.atelier.hub.wakeWorkers()
        return try Self.encoded(try await gate.overview())
    }

    static func encoded<T: Encodable>(_ body: T) throws -> Response {
        let response = Response(status: .ok)
        try response.content.encode(body, using: JSONEncoder.api)
        response.headers.cacheControl = .init(noStore: true)
        return response
    }
}
