import Fluent
import Foundation
import Vapor

/// `/v1/me`: my account, my API keys (create, list, revoke), export my data, delete my account. Everything but
/// reading the account needs a browser session; changing keys, exporting and deleting also the password
/// (`Reauthentication`). Password change and "sign out everywhere" are in `AccountSessionsController`.
struct AccountController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let me = routes.grouped("me")
        me.get(use: show)
        me.delete(use: deleteAccount)
        me.post("export", use: confirmedExport)
        me.get("keys", use: keys)
        me.post("keys", use: createKey)
        me.delete("keys", ":keyID", use: revokeKey)
    }

    @Sendable func show(req: Request) async throws -> UserDTO {
        UserDTO(try await account(req))
    }

    @Sendable func keys(req: Request) async throws -> Response {
        try Reauthentication(req: req).requireSession()
        let user = try await account(req)
        let keys = try await APIKeyRecord.query(on: req.db).filter(\.$user.$id == user.requireID())
            .sort(\.$createdAt, .descending).all()
        return try listResponse(keys.map { APIKeyDTO($0) })
    }

    @Sendable func createKey(req: Request) async throws -> Response {
        struct Body: Content { var name: String?; var scopes: [String]? }
        try await Reauthentication(req: req).require()
        let user = try await account(req)
        let body = try? req.content.decode(Body.self)
        let scopes = try APIKeyScope.requested(body?.scopes, isAdmin: user.isAdmin)
        let issued = try await APIKeyIssuer(database: req.db, clock: req.atelier.clock)
            .issue(for: user.requireID(), name: body?.name ?? "key", scopes: scopes)
        let response = Response(status: .created)
        try response.content.encode(APIKeyDTO(issued.record, secret: issued.secret), using: JSONEncoder.api)
        return response
    }

    @Sendable func revokeKey(req: Request) async throws -> HTTPStatus {
        try await Reauthentication(req: req).require()
        let user = try await account(req)
        guard let id = req.parameters.get("keyID", as: UUID.self),
            let key = try await APIKeyRecord.query(on: req.db).filter(\.$id == id).filter(\.$user.$id == user.requireID()).first()
        else { throw APIError.notFound("API key") }
        if key.revokedAt == nil {
            key.revokedAt = req.atelier.clock.now()
            try await key.update(on: req.db)
        }
        return .noContent
    }

    /// `POST /v1/me/export` with the password: the archive.
    @Sendable func confirmedExport(req: Request) async throws -> Response {
        try await Reauthentication(req: req).require()
        return try await export(req: req)
    }

    @Sendable func export(req: Request) async throws -> Response {
        let caller = try req.requireCaller()
        let user = try await caller.userID.asyncMap { try await UserRecord.find($0, on: req.db) } ?? nil
        return try await DataExport(req: req).response(owner: caller.owner, user: user)
    }

    @Sendable func deleteAccount(req: Request) async throws -> Response {
        try await Reauthentication(req: req).require()
        let user = try await account(req)
        try await AccountDeleter(app: req.application).delete(user)
        let response = Response(status: .noContent)
        try await SessionCookies(req: req).end(on: response)
        return response
    }

    /// The caller's user row; the local user of a login-free install has none.
    private func account(_ req: Request) async throws -> UserRecord {
        guard let id = try req.requireCaller().userID, let user = try await UserRecord.find(id, on: req.db) else {
            throw APIError.conflict("Login is switched off (local mode): there is no account to manage.", code: "no_account")
        }
        return user
    }

    private func listResponse(_ data: [APIKeyDTO]) throws -> Response {
        let response = Response(status: .ok)
        try response.content.encode(["data": data], using: JSONEncoder.api)
        return response
    }
}
