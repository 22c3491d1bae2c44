import AtelierCore
import Fluent
import Foundation

/// The webhook events that are not job events: a spending cap refusing a user's job, and a model in the registry
/// nearing its shutdown date. Each reaches an endpoint once per cap and day, or per model and date.
struct WebhookNotices: Sendable {
    let database: any Database
    let clock: AtelierClock

    static let shutdownNoticeDays = 30

    private var outbox: WebhookOutbox { WebhookOutbox(database: database, clock: clock) }

    /// After a job was refused by a spending cap (its own transaction was rolled back, so this is written on its own).
    func capReached(_ refusal: APIError, owner: String, model: String, estimatedCostNano: Int64?) async {
        struct Data: Encodable, Sendable {
            var message: String
            var model: String
            var estimatedCostUSD: Decimal?
            enum CodingKeys: String, CodingKey { case message, model, estimatedCostUSD = "estimated_cost_usd" }
        }
        let day = SpendBudget.periods(at: clock.now()).day
        _ = try? await outbox.enqueue(
            WebhookEvent.spendCapReached, owner: owner,
            data: Data(message: refusal.message, model: model, estimatedCostUSD: CostNano.usd(estimatedCostNano)),
            dedupeKey: "\(WebhookEvent.spendCapReached):\(owner):\(day)")
    }

    /// Queues `model.shutdown_soon` for every subscribed endpoint about each model whose `shutdown_date` is within
    /// `shutdownNoticeDays` (run by housekeeping; endpoints registered later hear it at the next run).
    @discardableResult
    func modelsShuttingDown(in registry: ModelRegistry) async throws -> Int {
        struct Data: Encodable, Sendable {
            var model: String
            var displayName: String
            var shutdownDate: String
            var daysLeft: Int
            enum CodingKeys: String, CodingKey {
                case model, displayName = "display_name", shutdownDate = "shutdown_date", daysLeft = "days_left"
            }
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let now = clock.now()
        var queued = 0
        for model in registry.models {
            guard let date = model.shutdownDate, let shutdown = formatter.date(from: date)?.timeIntervalSince1970 else { continue }
            let daysLeft = Int(((shutdown - now) / 86_400).rounded(.up))
            guard (0...Self.shutdownNoticeDays).contains(daysLeft) else { continue }
            queued += try await outbox.enqueue(
                WebhookEvent.modelShutdownSoon, owner: nil,
                data: Data(model: model.id, displayName: model.displayName, shutdownDate: date, daysLeft: daysLeft),
                dedupeKey: "\(WebhookEvent.modelShutdownSoon):\(model.id):\(date)")
        }
        return queued
    }
}
