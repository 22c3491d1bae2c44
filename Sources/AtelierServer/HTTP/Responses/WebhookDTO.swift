import Foundation
import Vapor

/// An endpoint as listed; `secret` only in the answer that created it.
struct WebhookDTO: Content {
    var id: String
    var url: String
    var events: [String]
    var owner: String
    /// An admin's endpoint for every user's events (`owner` "*").
    var allUsers: Bool
    var createdAt: Date
    var secret: String?

    enum CodingKeys: String, CodingKey {
        case id, url, events, owner, secret
        case allUsers = "all_users", createdAt = "created_at"
    }

    init(_ record: WebhookRecord, secret: String? = nil) {
        id = record.id?.uuidString.lowercased() ?? ""
        url = record.url
        events = record.eventTypes
        owner = record.owner
        allUsers = record.owner == WebhookRecord.everyone
        createdAt = Date(timeIntervalSince1970: record.createdAt)
        self.secret = secret
    }
}

/// A delivery in the log: its state, the last answer and every attempt.
struct WebhookDeliveryDTO: Content {
    struct Attempt: Content {
        var attempt: Int
        var at: Date
        var durationMs: Int
        var statusCode: Int?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case attempt, at, error
            case durationMs = "duration_ms", statusCode = "status_code"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(attempt, forKey: .attempt)
            try c.encode(at, forKey: .at)
            try c.encode(durationMs, forKey: .durationMs)
            try c.encode(statusCode, forKey: .statusCode)
            try c.encode(error, forKey: .error)
        }
    }

    var id: String
    var webhookID: String
    /// The `webhook-id` header of every attempt.
    var messageID: String
    var eventType: String
    var status: String
    var attempts: Int
    var createdAt: Date
    var nextAttemptAt: Date?
    var lastStatus: Int?
    var lastError: String?
    var finishedAt: Date?
    var attemptLog: [Attempt]

    enum CodingKeys: String, CodingKey {
        case id, status, attempts
        case webhookID = "webhook_id", messageID = "message_id", eventType = "event_type", createdAt = "created_at"
        case nextAttemptAt = "next_attempt_at", lastStatus = "last_status", lastError = "last_error"
        case finishedAt = "finished_at", attemptLog = "attempt_log"
    }

    /// Every documented key is present; absent values are `null`.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(webhookID, forKey: .webhookID)
        try c.encode(messageID, forKey: .messageID)
        try c.encode(eventType, forKey: .eventType)
        try c.encode(status, forKey: .status)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(lastStatus, forKey: .lastStatus)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(attemptLog, forKey: .attemptLog)
    }

    init(_ record: WebhookDeliveryRecord, attempts log: [WebhookAttemptRecord]) {
        id = record.id?.uuidString.lowercased() ?? ""
        webhookID = record.webhookID.uuidString.lowercased()
        messageID = record.messageID
        eventType = record.eventType
        status = record.status
        attempts = record.attempts
        createdAt = Date(timeIntervalSince1970: record.createdAt)
        nextAttemptAt =
            record.status == WebhookDeliveryRecord.Status.pending.rawValue
            ? Date(timeIntervalSince1970: record.nextAttemptAt) : nil
        lastStatus = record.lastStatus
        lastError = record.lastError
        finishedAt = record.finishedAt.map(Date.init(timeIntervalSince1970:))
        attemptLog = log.sorted { $0.attempt < $1.attempt }.map {
            Attempt(
                attempt: $0.attempt, at: Date(timeIntervalSince1970: $0.at), durationMs: $0.durationMs,
                statusCode: $0.statusCode, error: $0.error)
        }
    }
}
