import Fluent
import Foundation
import SQLKit

/// One rate-limited hit still to be counted: made by `apply` inside the transaction that does what it limits (a new
/// job's group commit), so the count and the job commit together and a refused hit rolls back with its job.
struct RateHit: Sendable {
    var subjects: [RateLimitSubject]
    var cost: Int
    var limit: Int
    /// What is limited, for the refusal's message ("images").
    var what: String

    /// Counts the hit on `database`; throws the 429 when it passes the limit (the caller's transaction then rolls
    /// the count back).
    func apply(on database: any Database, clock: AtelierClock) async throws {
        let decision = try await RateLimiter(database: database, clock: clock).hit(subjects, cost: cost, limit: limit)
        guard decision.allowed else { throw decision.refusal(what) }
    }

    /// Refuses, without counting, a hit that would pass the limit as the counts stand now: the cheap early answer
    /// before an upload is read and decoded. `apply` still decides exactly.
    func precheck(on database: any Database, clock: AtelierClock) async throws {
        let decision = try await RateLimiter(database: database, clock: clock).peek(subjects, cost: cost, limit: limit)
        guard decision.allowed else { throw decision.refusal(what) }
    }
}
