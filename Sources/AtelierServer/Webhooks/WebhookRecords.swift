import Fluent
import Foundation

/// An endpoint a user registered: where to send which events, and the secret that signs them (sealed when
/// `WEBHOOK_ENCRYPTION_KEY` is set; see `WebhookSecretBox`). An admin's endpoint for every user's events has
/// `owner` "*".
final class WebhookRecord: Model, @unchecked Sendable {
    static let schema = "webhooks"
    static let everyone = "*"

    @ID(key: .id) var id: UUID?
    @Field(key: "owner") var owner: String
    @Field(key: "url") var url: String
    /// Event types, space-separated.
    @Field(key: "events") var events: String
    @Field(key: "secret") var secret: String
    @Field(key: "created_at") var createdAt: Double

    init() {}

    init(owner: String, url: String, events: [String], secret: String, now: Double) {
        self.id = UUID()
        self.owner = owner
        self.url = url
        self.events = events.joined(separator: " ")
        self.secret = secret
        self.createdAt = now
    }

    var eventTypes: [String] { events.split(separator: " ").map(String.init) }
}

/// One event to send to one endpoint: the outbox row, then its delivery state.
final class WebhookDeliveryRecord: Model, @unchecked Sendable {
    static let schema = "webhook_deliveries"

    enum Status: String { case pending, delivered, failed }

    @ID(key: .id) var id: UUID?
    @Field(key: "webhook_id") var webhookID: UUID
    /// The endpoint's owner.
    @Field(key: "owner") var owner: String
    /// Whose event it is (nil for events about no one, such as a model's shutdown).
    @OptionalField(key: "event_owner") var eventOwner: String?
    @Field(key: "event_type") var eventType: String
    /// The exact body sent (and signed) on every attempt.
    @Field(key: "payload") var payload: String
    /// Set for events that must reach an endpoint once only (a cap reached today, a model's shutdown date).
    @OptionalField(key: "dedupe_key") var dedupeKey: String?
    @Field(key: "status") var status: String
    @Field(key: "attempts") var attempts: Int
    /// When the next attempt is due; while an attempt runs, when its lease ends.
    @Field(key: "next_attempt_at") var nextAttemptAt: Double
    /// Retries stop `maxAgeSeconds` after this (the event, or the last manual resend).
    @Field(key: "window_start") var windowStart: Double
    @OptionalField(key: "lease_owner") var leaseOwner: String?
    @OptionalField(key: "last_status") var lastStatus: Int?
    @OptionalField(key: "last_error") var lastError: String?
    @Field(key: "created_at") var createdAt: Double
    @OptionalField(key: "finished_at") var finishedAt: Double?

    init() {}

    /// The `webhook-id` header: the same on every attempt, so receivers can drop duplicates.
    var messageID: String { "msg_" + (id?.uuidString.lowercased() ?? "") }
}

/// One attempt of a delivery: when, how long, and what the receiver answered (or why nothing was sent).
final class WebhookAttemptRecord: Model, @unchecked Sendable {
    static let schema = "webhook_attempts"

    @ID(key: .id) var id: UUID?
    @Field(key: "delivery_id") var deliveryID: UUID
    @Field(key: "attempt") var attempt: Int
    @Field(key: "at") var at: Double
    @Field(key: "duration_ms") var durationMs: Int
    @OptionalField(key: "status_code") var statusCode: Int?
    @OptionalField(key: "error") var error: String?

    init() {}

    init(deliveryID: UUID, attempt: Int, at: Double, durationMs: Int, statusCode: Int?, error: String?) {
        self.id = UUID()
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.at = at
        self.durationMs = durationMs
        self.statusCode = statusCode
        self.error = error
    }
}
