import Fluent
import Foundation
import SQLKit
import Vapor

/// `/v1/admin` spend controls beside the kill switch: cancel every queued job at once, and the settlements whose
/// exact cost passed a cap (the admin page shows a banner while there are any from the last 24 hours).
struct AdminSpendController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped("admin")
        admin.post("jobs", "cancel-queued", use: cancelQueued)
        admin.get("spend", "overruns", use: overruns)
    }

    /// Cancels every queued job (retries waiting for their back-off too) and releases their reservations; running
    /// jobs are left to finish. `{"canceled": n}`.
    @Sendable func cancelQueued(req: Request) async throws -> Response {
        let lifecycle = req.application.lifecycle()
        var canceled = 0
        while true {
            let batch = try await lifecycle.cancelQueued(limit: 200, message: "Canceled by an administrator.")
            await lifecycle.deliver(batch)
            canceled += batch.events.count
            if batch.events.isEmpty { break }
        }
        req.logger.notice("admin canceled every queued job", metadata: ["count": "\(canceled)"])
        let response = Response(status: .ok)
        try response.content.encode(["canceled": canceled])
        return response
    }

    struct OverrunDTO: Content {
        var jobID: UUID
        var subject: String
        var period: String
        var capUSD: Decimal?
        var spentUSD: Decimal?
        var createdAt: Double

        enum CodingKeys: String, CodingKey {
            case subject, period
            case jobID = "job_id", capUSD = "cap_usd", spentUSD = "spent_usd", createdAt = "created_at"
        }
    }

    /// `?hours=24` (1…720): `{"data": [{"job_id", "subject" ("*" = the global cap), "period", "cap_usd", "spent_usd", "created_at"}]}`,
    /// newest first, at most 100.
    @Sendable func overruns(req: Request) async throws -> Response {
        let hours = req.query[Int.self, at: "hours"] ?? 24
        guard (1...720).contains(hours) else { throw APIError.invalid("hours", "hours must be 1 to 720.") }
        let rows = try await req.db.sql.raw(
            """
            SELECT job_id, subject, period, cap_nano, amount_nano, created_at FROM spend_overruns
            WHERE created_at >= \(bind: req.atelier.clock.now() - Double(hours) * 3600)
            ORDER BY created_at DESC LIMIT 100
            """
        ).all()
        let data = try rows.map { row in
            OverrunDTO(
                jobID: try row.decode(column: "job_id", as: UUID.self), subject: try row.decode(column: "subject", as: String.self),
                period: try row.decode(column: "period", as: String.self),
                capUSD: CostNano.usd(try row.decode(column: "cap_nano", as: Int64.self)),
                spentUSD: CostNano.usd(try row.decode(column: "amount_nano", as: Int64.self)),
                createdAt: try row.decode(column: "created_at", as: Double.self))
        }
        let response = Response(status: .ok)
        try response.content.encode(["data": data], using: JSONEncoder.api)
        return response
    }
}
