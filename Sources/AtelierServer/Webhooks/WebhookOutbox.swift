import Fluent
import Foundation
import SQLKit

/// Queues webhook deliveries: one `webhook_deliveries` row per subscribed endpoint, written on `database`. Given the
/// transaction that records the event, the event and its deliveries commit together or not at all; the dispatcher
/// sends them afterwards.
struct WebhookOutbox: Sendable {
    let database: any Database
    let clock: AtelierClock

    /// The body every endpoint receives: `{"type", "timestamp", "data"}` (the Standard Webhooks shape).
    private struct Envelope<Payload: Encodable>: Encodable {
        var type: String
        var timestamp: Date
        var data: Payload
    }

    /// Queues `type` for `owner`'s endpoints that subscribed to it (every owner's when `owner` is nil). With a
    /// `dedupeKey`, an endpoint that already has a delivery with that key gets no second one. Returns how many
    /// were queued.
    @discardableResult
    func enqueue(_ type: String, owner: String?, data: some Encodable & Sendable, dedupeKey: String? = nil) async throws -> Int {
        var query = WebhookRecord.query(on: database)
        if let owner { query = query.filter(\.$owner == owner) }
        let endpoints = try await query.all().filter { $0.eventTypes.contains(type) }
        guard !endpoints.isEmpty else { return 0 }
        let now = clock.now()
        let body = String(decoding: try JSONEncoder.api.encode(
            Envelope(type: type, timestamp: Date(timeIntervalSince1970: now), data: data)), as: UTF8.self)
        let sql = database as! any SQLDatabase
        var queued = 0
        for endpoint in endpoints {
            queued += try await sql.raw("""
                INSERT INTO webhook_deliveries (id, webhook_id, owner, event_type, payload, dedupe_key, status, attempts,
                    next_attempt_at, window_start, created_at)
                VALUES (\(bind: UUID()), \(bind: try endpoint.requireID()), \(bind: endpoint.owner), \(bind: type), \(bind: body),
                    \(bind: dedupeKey), 'pending', 0, \(bind: now), \(bind: now), \(bind: now))
                ON CONFLICT (webhook_id, dedupe_key) DO NOTHING
                RETURNING id
                """).all().count
        }
        return queued
    }
}
