import AtelierCore
import Foundation

/// The caps a job's estimated cost is reserved against (whole nano-dollars; nil = no cap).
struct SpendBudget: Sendable, Equatable {
    var dailyCapNano: Int64?
    var monthlyCapNano: Int64?
    var globalDailyCapNano: Int64?

    static let unlimited = SpendBudget()

    var hasCap: Bool { dailyCapNano != nil || monthlyCapNano != nil || globalDailyCapNano != nil }

    /// `2026-11-26` and `2026-11` in UTC for a Unix time: the date part of its ISO-8601 form (`"2026-11-26T…Z"`),
    /// computed without a calendar or a format string (every admission asks).
    static func periods(at time: Double) -> (day: String, month: String) {
        var iso = JSONBytesWriter(capacity: 24)
        iso.date(Date(timeIntervalSince1970: time))
        let day = String(decoding: iso.bytes[1..<11], as: UTF8.self)
        return (day, String(day.prefix(7)))
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
