import AtelierCore
import Foundation
import Vapor

/// The checks a new job passes before it is enqueued: the kill switch, the moderation rule, the images-per-minute
/// limit. Returns the caps its estimated cost is then reserved against (inside the enqueue transaction).
struct JobAdmission {
    let req: Request

    /// Admits `params` under `settings` (loaded once per creation by `checkKillSwitch`), counting its images now.
    func admit(_ params: ImageParameters, settings: RuntimeSettings) async throws -> SpendBudget {
        let admitted = try await admission(params, settings: settings)
        try await admitted.rateHit.apply(on: req.db, clock: req.atelier.clock)
        return admitted.budget
    }

    /// What a new job is admitted with: the caps its reservation is held against, and its images-per-minute hit,
    /// made in the job's own transaction (group commit: one fsync for both). A caller already at its limit is
    /// refused here, before its upload is decoded; the hit in the transaction decides exactly.
    struct Admitted: Sendable {
        var budget: SpendBudget
        var rateHit: RateHit
    }

    /// What a job creation read first, in one statement: the runtime settings (the kill switch refused), and the
    /// images its caller counted this minute for the early check (`RateLimiter.PeekRead`).
    struct Checked: Sendable {
        var settings: RuntimeSettings
        var imagesRead: RateLimiter.PeekRead?
        var imagesCounted: String?
    }

    /// `checkKillSwitch` and the early images-per-minute read, as one statement.
    func check() async throws -> Checked {
        let read = req.caller.map {
            RateLimiter(database: req.db, clock: req.atelier.clock).peekRead(
                RateLimitSubject.caller(.images, owner: $0.owner, key: $0.keyID))
        }
        let (settings, counted) = try await RuntimeSettings.load(req.db, access: req.atelier.config.access, alongside: read?.expression)
        try Self.refuseWhileStopped(settings)
        return Checked(settings: settings, imagesRead: read, imagesCounted: counted)
    }

    /// Admits `params` under what `check` read, deciding the early images-per-minute check from its count.
    func admission(_ params: ImageParameters, checked: Checked) async throws -> Admitted {
        try await admission(params, settings: checked.settings, peeked: checked.imagesRead.map { ($0, checked.imagesCounted) })
    }

    /// Admits `params` under `settings`, reading the rate counters without counting (see `Admitted`) unless
    /// `peeked` has them.
    func admission(
        _ params: ImageParameters, settings: RuntimeSettings, peeked: (RateLimiter.PeekRead, String?)? = nil
    ) async throws -> Admitted {
        let caller = try req.requireCaller()
        if params.moderation == "low" && !caller.verified {
            throw APIError.invalid(
                "moderation", "moderation=low is only available to verified accounts; use auto, or ask an admin to verify you.",
                code: "moderation_not_allowed")
        }
        let hit = RateHit(
            subjects: RateLimitSubject.caller(.images, owner: caller.owner, key: caller.keyID), cost: params.n,
            limit: caller.limits.imagesPerMinute, what: "images")
        if let (read, counted) = peeked {
            let decision = read.peeked(counted, cost: hit.cost, limit: hit.limit)
            guard decision.allowed else { throw decision.refusal(hit.what) }
        } else {
            try await hit.precheck(on: req.db, clock: req.atelier.clock)
        }
        let budget = SpendBudget(
            dailyCapNano: caller.limits.dailyCapNano, monthlyCapNano: caller.limits.monthlyCapNano,
            globalDailyCapNano: settings.globalDailyCapNano)
        return Admitted(budget: budget, rateHit: hit)
    }

    /// Loads the runtime settings and refuses new jobs while the kill switch is on. Uploads call it before reading
    /// the body, so a paused gateway does not take in hundreds of megabytes only to refuse them.
    @discardableResult
    func checkKillSwitch() async throws -> RuntimeSettings {
        let settings = try await RuntimeSettings.load(req.db, access: req.atelier.config.access)
        try Self.refuseWhileStopped(settings)
        return settings
    }

    private static func refuseWhileStopped(_ settings: RuntimeSettings) throws {
        if settings.killSwitch {
            throw APIError(
                status: .serviceUnavailable, code: "kill_switch",
                message: "New jobs are paused by the administrator (kill switch). Jobs already running will finish; try again later.")
        }
    }
}
