import AsyncHTTPClient
import Fluent
import Foundation
import Logging
import SQLKit

/// Sends queued webhook deliveries. Runs beside the job worker (`atelier serve` and `atelier worker`) on its own
/// task, with at most `concurrency` attempts in flight, each bounded by `timeoutSeconds`: a receiver that hangs
/// holds one of these slots, never a job. Deliveries are claimed like jobs, with a lease: one `UPDATE … WHERE id IN
/// (SELECT … [FOR UPDATE SKIP LOCKED])` moves `next_attempt_at` to the lease's end, so several processes never send
/// the same delivery at once, and a process that dies mid-attempt leaves it to be sent again when the lease ends.
final class WebhookDispatcher: Sendable {
    let id: String
    let database: any Database
    let sender: WebhookSender
    let settings: AtelierConfig.Webhooks
    let clock: AtelierClock
    let logger: Logger

    init(database: any Database, client: HTTPClient, settings: AtelierConfig.Webhooks, clock: AtelierClock, logger: Logger) {
        self.id = "\(ProcessInfo.processInfo.hostName)-\(getpid())-hooks-\(UUID().uuidString.prefix(8))"
        self.database = database
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.sender = WebhookSender(
            client: client, policy: WebhookURLPolicy(allowPrivate: settings.allowPrivate, maxLength: settings.maxURLLength),
            secrets: WebhookSecretBox(key: settings.encryptionKey), timeoutSeconds: settings.timeoutSeconds, clock: clock)
    }

    private var sql: any SQLDatabase { database.sql }

    /// Claims and sends until the task is canceled, keeping up to `concurrency` attempts in flight; looks for due
    /// deliveries every `pollSeconds` and whenever an attempt ends.
    func run() async {
        await withTaskGroup(of: Bool.self) { group in
            var inFlight = 0
            var ticking = false
            while !Task.isCancelled {
                if inFlight < settings.concurrency {
                    let claimed = await claimLogged(limit: settings.concurrency - inFlight)
                    for delivery in claimed {
                        group.addTask {
                            await self.deliver(delivery); return true
                        }
                    }
                    inFlight += claimed.count
                    if !claimed.isEmpty { continue }
                }
                if !ticking {
                    let poll = settings.pollSeconds
                    group.addTask {
                        try? await Task.sleep(for: .seconds(poll)); return false
                    }
                    ticking = true
                }
                if let wasDelivery = await group.next() {
                    if wasDelivery { inFlight -= 1 } else { ticking = false }
                }
            }
        }
    }

    /// Claims what is due (up to `concurrency`) and sends it; returns how many were attempted. For tests and tools.
    @discardableResult
    func dispatchDue() async throws -> Int {
        let claimed = try await claim(limit: settings.concurrency)
        await withTaskGroup(of: Void.self) { group in
            for delivery in claimed { group.addTask { await self.deliver(delivery) } }
        }
        return claimed.count
    }

    /// The outer conditions are checked again on the row as it is when the lock is had, so a row another claimer
    /// took meanwhile (its `next_attempt_at` moved to its lease's end) is not taken twice.
    func claim(limit: Int) async throws -> [WebhookDeliveryRecord] {
        let now = clock.now()
        let lock: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        return try await sql.raw(
            """
            UPDATE webhook_deliveries SET lease_owner = \(bind: id), next_attempt_at = \(bind: now + settings.leaseSeconds),
                attempts = attempts + 1
            WHERE status = 'pending' AND next_attempt_at <= \(bind: now) AND id IN (
                SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= \(bind: now)
                ORDER BY next_attempt_at LIMIT \(unsafeRaw: String(max(1, limit)))\(lock))
            RETURNING *
            """
        ).all().map { try $0.decode(fluentModel: WebhookDeliveryRecord.self) }
    }

    private func claimLogged(limit: Int) async -> [WebhookDeliveryRecord] {
        do { return try await claim(limit: limit) } catch {
            logger.error("claiming webhook deliveries failed", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// One attempt of a claimed delivery, then its outcome recorded.
    func deliver(_ delivery: WebhookDeliveryRecord) async {
        do {
            guard let endpoint = try await WebhookRecord.find(delivery.webhookID, on: database) else { return }
            let result = await sender.attempt(delivery, to: endpoint)
            try await record(result, of: delivery)
        } catch {
            logger.error(
                "webhook delivery bookkeeping failed; it is tried again when its lease ends",
                metadata: ["delivery": "\(delivery.id?.uuidString ?? "")", "error": "\(error)"])
        }
    }

    /// Stores the attempt and the delivery's next state in one transaction, only while this dispatcher still holds
    /// the attempt (`lease_owner` and `attempts` unchanged since the claim).
    func record(_ result: WebhookSender.Result, of delivery: WebhookDeliveryRecord) async throws {
        let deliveryID = try delivery.requireID()
        let now = clock.now()
        let next = result.succeeded ? now : now + Self.backoff(attempt: delivery.attempts, settings: settings)
        let outcome: WebhookDeliveryRecord.Status =
            result.succeeded ? .delivered : next > delivery.windowStart + settings.maxAgeSeconds ? .failed : .pending
        let finished: Double? = outcome == .pending ? nil : now
        let leaseOwner = id
        try await database.transaction { db in
            let updated = try await db.sql.raw(
                """
                UPDATE webhook_deliveries SET status = \(bind: outcome.rawValue), next_attempt_at = \(bind: next),
                    lease_owner = NULL, last_status = \(bind: result.statusCode), last_error = \(bind: result.error),
                    finished_at = \(bind: finished)
                WHERE id = \(bind: deliveryID) AND lease_owner = \(bind: leaseOwner) AND attempts = \(bind: delivery.attempts)
                RETURNING id
                """
            ).all()
            guard updated.count == 1 else { return }
            try await WebhookAttemptRecord(
                deliveryID: deliveryID, attempt: delivery.attempts, at: now, durationMs: result.durationMs,
                statusCode: result.statusCode, error: result.error
            ).create(on: db)
        }
        if !result.succeeded {
            logger.info(
                "webhook attempt failed",
                metadata: [
                    "delivery": "\(deliveryID)", "attempt": "\(delivery.attempts)",
                    "status": "\(result.statusCode.map(String.init) ?? "-")",
                    "outcome": "\(outcome.rawValue)",
                ])
        }
    }

    /// Seconds before the attempt after `attempt`: `retryBaseSeconds` doubled each time, at most `maxDelaySeconds`,
    /// less up to a quarter at random so endpoints that failed together are not retried together.
    static func backoff(attempt: Int, settings: AtelierConfig.Webhooks) -> Double {
        let exponential = min(settings.maxDelaySeconds, settings.retryBaseSeconds * pow(2, Double(max(0, min(attempt - 1, 40)))))
        return exponential * Double.random(in: 0.75...1)
    }
}
