import Fluent
import Foundation
import SQLKit
import Vapor

/// `GET /v1/admin/spend/batches?days=30`: what each batch created in the period has cost (the settled ledger of
/// its jobs, so earlier failed attempts that reached the upstream count too) and still holds reserved, dearest
/// first, at most 100.
struct BatchSpendController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped("admin", "spend").get("batches", use: report)
    }

    struct Line: Content {
        var id: String
        var name: String
        var owner: String
        var mode: String
        var jobs: Int
        var spentUSD: Decimal
        var reservedUSD: Decimal

        enum CodingKeys: String, CodingKey {
            case id, name, owner, mode, jobs
            case spentUSD = "spent_usd", reservedUSD = "reserved_usd"
        }
    }

    @Sendable func report(req: Request) async throws -> Response {
        let days = req.query[Int.self, at: "days"] ?? 30
        guard (1...366).contains(days) else { throw APIError.invalid("days", "days must be 1 to 366.") }
        let since = req.atelier.clock.now() - Double(days) * 86_400
        let rows = try await req.db.sql.raw(
            """
            SELECT b.id, b.name, b.owner, b.mode, b.total,
                CAST(COALESCE(SUM(CASE WHEN l.state = 'settled' THEN l.settled_nano ELSE 0 END), 0) AS BIGINT) AS spent,
                CAST(COALESCE(SUM(CASE WHEN l.state = 'reserved' THEN l.reserved_nano + l.charged_nano ELSE 0 END), 0) AS BIGINT) AS reserved
            FROM batches b JOIN jobs j ON j.batch_id = b.id LEFT JOIN spend_ledger l ON l.job_id = j.id
            WHERE b.created_at >= \(bind: since)
            GROUP BY b.id, b.name, b.owner, b.mode, b.total
            ORDER BY spent DESC, b.id LIMIT 100
            """
        ).all()
        let lines = try rows.map { row in
            Line(
                id: try row.decode(column: "id", as: UUID.self).uuidString.lowercased(),
                name: try row.decode(column: "name", as: String.self),
                owner: try row.decode(column: "owner", as: String.self), mode: try row.decode(column: "mode", as: String.self),
                jobs: try row.decode(column: "total", as: Int.self),
                spentUSD: CostNano.usd(try row.decode(column: "spent", as: Int64.self)),
                reservedUSD: CostNano.usd(try row.decode(column: "reserved", as: Int64.self)))
        }
        let response = Response(status: .ok)
        try response.content.encode(["data": lines], using: JSONEncoder.api)
        return response
    }
}
