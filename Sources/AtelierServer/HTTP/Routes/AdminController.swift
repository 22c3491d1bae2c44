import Fluent
import Foundation
import SQLKit
import Vapor

/// `/v1/admin` (admins only): users (role, verified, status, caps, limits; reject a pending sign-up) and spend per
/// user per day.
struct AdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped("admin")
        admin.get("users", use: users)
        admin.patch("users", ":userID", use: updateUser)
        admin.delete("users", ":userID", use: rejectUser)
        admin.get("spend", use: spend)
    }

    @Sendable func users(req: Request) async throws -> Response {
        let users = try await UserRecord.query(on: req.db).sort(\.$createdAt).all()
        return try encoded(["data": users.map(UserDTO.init)])
    }

    @Sendable func updateUser(req: Request) async throws -> UserDTO {
        guard let id = req.parameters.get("userID", as: UUID.self), let user = try await UserRecord.find(id, on: req.db) else {
            throw APIError.notFound("user")
        }
        let patch = try req.content.decode(AdminUserPatch.self)
        let wasActiveAdmin = user.isAdmin && user.accountStatus == .active
        try patch.apply(to: user)
        if wasActiveAdmin && !(user.isAdmin && user.accountStatus == .active) {
            let admins = try await UserRecord.query(on: req.db).filter(\.$role == UserRecord.Role.admin.rawValue)
                .filter(\.$status == UserRecord.Status.active.rawValue).count()
            if admins <= 1 { throw APIError.conflict("This is the last admin; make someone else admin first.", code: "last_admin") }
        }
        try await req.db.transaction { db in
            try await user.update(on: db)
            if user.accountStatus == .suspended {
                try await SessionRecord.query(on: db).filter(\.$user.$id == user.requireID()).delete()
            }
        }
        return UserDTO(user)
    }

    /// Rejecting a pending sign-up deletes it; other accounts are suspended instead (409).
    @Sendable func rejectUser(req: Request) async throws -> HTTPStatus {
        guard let id = req.parameters.get("userID", as: UUID.self), let user = try await UserRecord.find(id, on: req.db) else {
            throw APIError.notFound("user")
        }
        guard user.accountStatus == .pending else {
            throw APIError.conflict("Only a pending sign-up can be rejected; suspend an active account instead.", code: "not_pending")
        }
        try await AccountDeleter(app: req.application).delete(user)
        return .noContent
    }

    /// `?days=30`: `{"days": ["2026-11-01", …], "series": [{"owner", "email", "amounts_usd": [...]}], "total_usd": [...]}`.
    @Sendable func spend(req: Request) async throws -> Response {
        struct Series: Encodable {
            var owner: String
            var email: String?
            var amountsUSD: [Decimal]
            enum CodingKeys: String, CodingKey {
                case owner, email
                case amountsUSD = "amounts_usd"
            }
        }
        struct Body: Encodable {
            var days: [String]
            var series: [Series]
            var totalUSD: [Decimal]
            enum CodingKeys: String, CodingKey {
                case days, series
                case totalUSD = "total_usd"
            }
        }
        let count = min(max(req.query[Int.self, at: "days"] ?? 30, 1), 366)
        let now = req.atelier.clock.now()
        let days = (0..<count).reversed().map { SpendBudget.periods(at: now - Double($0) * 86_400).day }
        let rows = try await req.db.sql.raw(
            """
            SELECT subject, period, amount_nano FROM spend_periods WHERE period >= \(bind: days[0]) AND LENGTH(period) = 10
            """
        ).all()
        var amounts: [String: [String: Int64]] = [:]
        for row in rows {
            let subject = try row.decode(column: "subject", as: String.self)
            amounts[subject, default: [:]][try row.decode(column: "period", as: String.self)] = try row.decode(
                column: "amount_nano", as: Int64.self)
        }
        let emails = try await UserRecord.query(on: req.db).all().reduce(into: [String: String]()) { $0[$1.ownerKey] = $1.email }
        let series = amounts.keys.filter { $0 != "*" }.sorted().map { owner in
            Series(owner: owner, email: emails[owner], amountsUSD: days.map { CostNano.usd(amounts[owner]?[$0] ?? 0) })
        }
        let total = days.map { CostNano.usd(amounts["*"]?[$0] ?? 0) }
        return try encoded(Body(days: days, series: series, totalUSD: total))
    }

    private func encoded<T: Encodable>(_ body: T) throws -> Response {
        let response = Response(status: .ok)
        try response.content.encode(body, using: JSONEncoder.api)
        return response
    }
}
