import Fluent
import Foundation
import Vapor

/// `/v1/admin/invites` (admins only): make a single-use, expiring invitation link; list the open ones; withdraw one.
struct AdminInviteController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let invites = routes.grouped("admin", "invites")
        invites.post(use: create)
        invites.get(use: list)
        invites.delete(":inviteID", use: withdraw)
    }

    struct InviteDTO: Content {
        var id: UUID
        var createdAt: Date
        var expiresAt: Date
        /// Only in the answer that made it: `token` and the path to hand out.
        var token: String?
        var link: String?

        enum CodingKeys: String, CodingKey {
            case id, token, link
            case createdAt = "created_at", expiresAt = "expires_at"
        }

        init(_ record: InviteRecord, token: String? = nil) {
            id = record.id ?? UUID()
            createdAt = Date(timeIntervalSince1970: record.createdAt)
            expiresAt = Date(timeIntervalSince1970: record.expiresAt)
            self.token = token
            link = token.map { "/login.html#invite=\($0)" }
        }
    }

    @Sendable func create(req: Request) async throws -> Response {
        struct Body: Content {
            var expiresInHours: Int?
            enum CodingKeys: String, CodingKey { case expiresInHours = "expires_in_hours" }
        }
        let hours = (try? req.content.decode(Body.self))?.expiresInHours ?? 72
        let issued = try await Invites(database: req.db, clock: req.atelier.clock).create(by: req.caller?.userID, hours: hours)
        let response = Response(status: .created)
        try response.content.encode(InviteDTO(issued.record, token: issued.token), using: JSONEncoder.api)
        return response
    }

    @Sendable func list(req: Request) async throws -> Response {
        let open = try await InviteRecord.query(on: req.db).filter(\.$usedAt == nil)
            .filter(\.$expiresAt > req.atelier.clock.now()).sort(\.$createdAt, .descending).all()
        let response = Response(status: .ok)
        try response.content.encode(["data": open.map { InviteDTO($0) }], using: JSONEncoder.api)
        return response
    }

    @Sendable func withdraw(req: Request) async throws -> HTTPStatus {
        guard let id = req.parameters.get("inviteID", as: UUID.self), let invite = try await InviteRecord.find(id, on: req.db) else {
            throw APIError.notFound("invitation")
        }
        try await invite.delete(on: req.db)
        return .noContent
    }
}
