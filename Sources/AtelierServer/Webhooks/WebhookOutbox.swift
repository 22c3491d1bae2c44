import Fluent
import Foundation
import SQLKit

/// Queues webhook deliveries: one `webhook_deliveries` row per subscribed endpoint, written on `database`. Given the
/// transaction that records the event, the event and its deliveries commit together or not at all; the dispatcher
/// sends them afterwards.
struct WebhookOutbox: Sendable {
    let database: any Database
    let clock: AtelierClock

    /// The body every endpoint receives: `{"type", "timestamp", "owner", "data"}` (the Standard Webhooks shape, plus
    /// whose event it is, null for an event about no one).
    private struct Envelope<Payload: Encodable>: Encodable {
        var type: String
        var timestamp: Date
        var owner: String?
        var data: Payload

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(timestamp, forKey: .timestamp)
            try c.encode(owner, forKey: .owner)
            try c.encode(data, forKey: .data)
        }

        enum CodingKeys: String, CodingKey { case type, timestamp, owner, data }
    }

    /// Queues `type` for the endpoints subscribed to it of `owner` and of admins for every user (every endpoint when
    /// `owner` is nil: an event about no one). With a `dedupeKey`, an endpoint that already has a delivery with that
    /// key gets no second one. Returns how many were queued.
    @discardableResult
    func enqueue(_ type: String, owner: String?, data: some Encodable & Sendable, dedupeKey: String? = nil) async throws -> Int {
        let sql = database.sql
        // Read raw: Fluent's query and model decoding cost a completion more than the statement itself.
        let subscribers: SQLQueryString = owner.map { "WHERE owner IN (\(bind: $0), \(bind: WebhookRecord.everyone))" } ?? ""
        let endpoints = try await sql.raw("SELECT id, owner, events FROM webhooks \(subscribers)").all().filter { row in
            try row.decode(column: "events", as: String.self).split(separator: " ").contains { $0 == type }
        }
        guard !endpoints.isEmpty else { return 0 }
        let now = clock.now()
        let body = try Self.body(type, owner: owner, data: data, at: now)
        var queued = 0
        for endpoint in endpoints {
            queued += try await sql.raw(
                """
                INSERT INTO webhook_deliveries (id, webhook_id, owner, event_owner, event_type, payload, dedupe_key, status,
                    attempts, next_attempt_at, window_start, created_at)
                VALUES (\(bind: UUID()), \(bind: try endpoint.decode(column: "id", as: UUID.self)),
                    \(bind: try endpoint.decode(column: "owner", as: String.self)), \(bind: owner), \(bind: type), \(bind: body),
                    \(bind: dedupeKey), 'pending', 0, \(bind: now), \(bind: now), \(bind: now))
                ON CONFLICT (webhook_id, dedupe_key) DO NOTHING
                RETURNING id
                """
            ).all().count
        }
        return queued
    }

    /// The body of a delivery of `type` made at `now`: what every endpoint receives (`PostgresCompletion` passes it to
    /// `atelier_complete_job`).
    static func body(_ type: String, owner: String?, data: some Encodable & Sendable, at now: Double) throws -> String {
        String(
            decoding: try JSONEncoder.api.encode(
                Envelope(type: type, timestamp: Date(timeIntervalSince1970: now), owner: owner, data: data)), as: UTF8.self)
    }
}
