import AtelierCore
import Foundation
import Vapor

/// The checks a new job passes before it is enqueued: the kill switch, the moderation rule, the images-per-minute
/// limit. Returns the caps its estimated cost is then reserved against (inside the enqueue transaction).
struct JobAdmission {
    let req: Request

    /// Admits `params` under `settings` (loaded once per creation by `checkKillSwitch`).
    func admit(_ params: ImageParameters, settings: RuntimeSettings) async throws -> SpendBudget {
        let caller = try req.requireCaller()
        if params.moderation == "low" && !caller.verified {
            throw APIError.invalid(
                "moderation", "moderation=low is only available to verified accounts; use auto, or ask an admin to verify you.",
                code: "moderation_not_allowed")
        }
        let subjects = RateLimitSubject.caller(.images, owner: caller.owner, key: caller.keyID)
        let decision = try await RateLimiter(database: req.db, clock: req.atelier.clock)
            .hit(subjects, cost: params.n, limit: caller.limits.imagesPerMinute)
        guard decision.allowed else { throw decision.refusal("images") }
        return SpendBudget(
            dailyCapNano: caller.limits.dailyCapNano, monthlyCapNano: caller.limits.monthlyCapNano,
            globalDailyCapNano: settings.globalDailyCapNano)
    }

    /// Loads the runtime settings and refuses new jobs while the kill switch is on. Uploads call it before reading
    /// the body, so a paused gateway does not take in hundreds of megabytes only to refuse them.
    @discardableResult
    func checkKillSwitch() async throws -> RuntimeSettings {
        let settings = try await RuntimeSettings.load(req.db, access: req.atelier.config.access)
        if settings.killSwitch {
            throw APIError(
                status: .serviceUnavailable, code: "kill_switch",
                message: "New jobs are paused by the administrator (kill switch). Jobs already running will finish; try again later.")
        }
        return settings
    }
}
