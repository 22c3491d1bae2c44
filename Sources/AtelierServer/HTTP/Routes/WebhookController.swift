import Fluent
import Foundation
import SQLKit
import Vapor

/// `/v1/webhooks`: register endpoints (the secret is shown once), list, delete, read the delivery log, resend.
/// Another user's endpoints answer 404; admins may act on everyone's (`?all=true` lists them) and register endpoints
/// for every user's events (`"all_users": true`).
struct WebhookController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let hooks = routes.grouped("webhooks")
        hooks.get(use: index)
        hooks.post(use: create)
        hooks.group(":webhookID") { hook in
            hook.delete(use: delete)
            hook.get("deliveries", use: deliveries)
            hook.post("deliveries", ":deliveryID", "resend", use: resend)
        }
    }

    @Sendable func index(req: Request) async throws -> Response {
        var query = WebhookRecord.query(on: req.db)
        if !req.wantsAllOwners {
            // An admin's own list includes the endpoints for every user's events.
            query = query.filter(\.$owner ~~ (req.caller?.isAdmin == true ? [req.owner, WebhookRecord.everyone] : [req.owner]))
        }
        let hooks = try await query.sort(\.$createdAt, .descending).all()
        return try Self.json(["data": hooks.map { WebhookDTO($0) }])
    }

    @Sendable func create(req: Request) async throws -> Response {
        struct Body: Decodable {
            var url: String?
            var events: [String]?
            var allUsers: Bool?
            enum CodingKeys: String, CodingKey { case url, events, allUsers = "all_users" }
        }
        guard let body = try? req.content.decode(Body.self) else {
            throw APIError.invalid(nil, "Send JSON like {\"url\": \"https://example.com/hooks\", \"events\": [\"job.succeeded\"]}.")
        }
        let settings = req.atelier.config.webhooks
        let events = try Self.events(body.events)
        guard let url = body.url?.trimmingCharacters(in: .whitespaces), !url.isEmpty else {
            throw APIError.invalid("url", "url is required: the http(s) address that receives the events.")
        }
        do {
            _ = try await WebhookURLPolicy(allowPrivate: settings.allowPrivate, maxLength: settings.maxURLLength).target(for: url)
        } catch let refused as WebhookURLPolicy.Refused {
            throw APIError.invalid("url", refused.description + ".", code: "url_not_allowed")
        }
        let allUsers = body.allUsers ?? false
        if allUsers && req.caller?.isAdmin != true {
            throw APIError(
                status: .forbidden, code: "admin_only", message: "Only admins may receive every user's events.", field: "all_users")
        }
        let owner = allUsers ? WebhookRecord.everyone : req.owner
        let count = try await WebhookRecord.query(on: req.db).filter(\.$owner == owner).count()
        guard count < settings.maxPerOwner else {
            throw APIError.conflict(
                "You have \(count) webhook endpoints, the most allowed; delete one first.", code: "too_many_webhooks")
        }
        let secret = WebhookSigner.newSecret()
        let record = WebhookRecord(
            owner: owner, url: url, events: events,
            secret: try WebhookSecretBox(key: settings.encryptionKey).seal(secret), now: req.atelier.clock.now())
        try await record.create(on: req.db)
        return try Self.json(WebhookDTO(record, secret: secret), status: .created)
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let hook = try await req.ownedWebhook()
        let hookID = try hook.requireID()
        try await req.db.transaction { db in try await WebhookCleanup.delete(endpoint: hookID, on: db) }
        return .noContent
    }

    @Sendable func deliveries(req: Request) async throws -> Response {
        let hook = try await req.ownedWebhook()
        let limit = req.query[Int.self, at: "limit"] ?? 50
        guard (1...100).contains(limit) else { throw APIError.invalid("limit", "limit must be 1…100.") }
        let rows = try await WebhookDeliveryRecord.query(on: req.db).filter(\.$webhookID == hook.requireID())
            .sort(\.$createdAt, .descending).limit(limit).all()
        return try Self.json(["data": try await Self.dtos(rows, on: req.db)])
    }

    /// Makes a delivery due now with a fresh retry window; the `webhook-id` stays the same.
    @Sendable func resend(req: Request) async throws -> Response {
        let hook = try await req.ownedWebhook()
        guard let deliveryID = req.parameters.get("deliveryID", as: UUID.self),
            let delivery = try await WebhookDeliveryRecord.query(on: req.db)
                .filter(\.$id == deliveryID).filter(\.$webhookID == hook.requireID()).first()
        else { throw APIError.notFound("delivery") }
        let now = req.atelier.clock.now()
        let updated = try await req.db.sql.raw(
            """
            UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(bind: now), window_start = \(bind: now),
                lease_owner = NULL, finished_at = NULL
            WHERE id = \(bind: deliveryID) AND status <> 'pending'
            RETURNING id
            """
        ).all()
        guard updated.count == 1 else {
            throw APIError.conflict("This delivery is still pending; it is sent at its next attempt.", code: "delivery_pending")
        }
        guard let fresh = try await WebhookDeliveryRecord.find(delivery.id, on: req.db) else { throw APIError.notFound("delivery") }
        return try Self.json(try await Self.dtos([fresh], on: req.db)[0], status: .accepted)
    }

    /// The requested event types, known and without repeats.
    static func events(_ requested: [String]?) throws -> [String] {
        let allowed = WebhookEvent.all.joined(separator: ", ")
        guard let requested, !requested.isEmpty else {
            throw APIError.invalid("events", "events must list at least one event type: \(allowed).")
        }
        if let unknown = requested.first(where: { !WebhookEvent.all.contains($0) }) {
            throw APIError.invalid("events", "Unknown event type '\(unknown.prefix(64))'; allowed: \(allowed).")
        }
        return WebhookEvent.all.filter(requested.contains)
    }

    static func dtos(_ rows: [WebhookDeliveryRecord], on db: any Database) async throws -> [WebhookDeliveryDTO] {
        let ids = rows.compactMap(\.id)
        let attempts = ids.isEmpty ? [] : try await WebhookAttemptRecord.query(on: db).filter(\.$deliveryID ~~ ids).all()
        let byDelivery = Dictionary(grouping: attempts, by: \.deliveryID)
        return rows.map { WebhookDeliveryDTO($0, attempts: byDelivery[$0.id ?? UUID()] ?? []) }
    }

    private static func json(_ body: some Encodable, status: HTTPResponseStatus = .ok) throws -> Response {
        let response = Response(status: status)
        try response.content.encode(body, using: JSONEncoder.api)
        return response
    }
}

extension Request {
    /// The endpoint named by `:webhookID` if the caller owns it (admins: any); anything else answers 404.
    func ownedWebhook() async throws -> WebhookRecord {
        guard let id = parameters.get("webhookID", as: UUID.self),
            let hook = try await WebhookRecord.find(id, on: db), hook.owner == owner || caller?.isAdmin == true
        else { throw APIError.notFound("webhook") }
        return hook
    }
}
