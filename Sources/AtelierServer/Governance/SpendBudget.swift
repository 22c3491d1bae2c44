import Foundation

/// The caps a job's estimated cost is reserved against (whole nano-dollars; nil = no cap).
struct SpendBudget: Sendable, Equatable {
    var dailyCapNano: Int64?
    var monthlyCapNano: Int64?
    var globalDailyCapNano: Int64?

    static let unlimited = SpendBudget()

    var hasCap: Bool { dailyCapNano != nil || monthlyCapNano != nil || globalDailyCapNano != nil }

    /// `2026-11-26` and `2026-11` in UTC for a Unix time.
    static func periods(at time: Double) -> (day: String, month: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: time))
        let month = String(format: "%04d-%02d", parts.year ?? 1970, parts.month ?? 1)
        return (month + String(format: "-%02d", parts.day ?? 1), month)
    }

    /// Seconds until the next UTC midnight (when daily caps reset).
    static func secondsUntilNextDay(from time: Double) -> Int {
        86_400 - Int(time.truncatingRemainder(dividingBy: 86_400))
    }
}

extension SpendBudget {
    /// The three `spend_periods` rows a job's cost is added to, with the cap each is held under.
    static func rows(owner: String, budget: SpendBudget, day: String, month: String)
        -> [(subject: String, period: String, cap: Int64?, name: String, label: String)]
    {
        [
            (owner, day, budget.dailyCapNano, "your daily spending cap", "daily"),
            (owner, month, budget.monthlyCapNano, "your monthly spending cap", "monthly"),
            ("*", day, budget.globalDailyCapNano, "the server's daily spending cap", "global"),
        ]
    }
}
