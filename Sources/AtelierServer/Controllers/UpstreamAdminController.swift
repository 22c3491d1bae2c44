import Foundation
import Vapor

/// `/v1/admin/upstream` (admins only): the upstream keys by label, why any is stopped, the (key, model) lanes
/// paused for the rate limit and the pacing limits; `POST …/keys/{label}/resume` lets a stopped key work again.
struct UpstreamAdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let upstream = routes.grouped("admin", "upstream")
        upstream.get(use: overview)
        upstream.post("keys", ":label", "resume", use: resume)
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
