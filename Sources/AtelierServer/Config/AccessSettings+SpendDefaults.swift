import Foundation
import Logging

extension AtelierConfig.Access {
    /// Applied when an OpenAI key is configured and `GLOBAL_DAILY_CAP_USD` is not set, so a fresh instance cannot
    /// spend without bound; `GLOBAL_DAILY_CAP_USD=none` switches the global cap off explicitly.
    public static let defaultGlobalDailyCapUSD: Decimal = 20
    /// The daily cap of every member without their own (`DEFAULT_DAILY_CAP_USD`, `none` for no cap).
    public static let defaultMemberDailyCapUSD: Decimal = 5

    public enum CapSource: Sendable, Equatable {
        /// Set to an amount in the environment.
        case explicit
        /// Not set; the built-in default applies (or no cap without an OpenAI key).
        case builtInDefault
        /// `none`: switched off on purpose.
        case disabled
    }

    /// A cap in USD from the environment: an amount, `none`/`off` (no cap), or unset (`default`).
    static func cap(_ name: String, _ raw: String?, default fallback: Decimal?, problems: inout [String]) -> (
        nano: Int64?, source: CapSource
    ) {
        guard let raw else { return (fallback.map(CostNano.from(usd:)), .builtInDefault) }
        if ["none", "off"].contains(raw.lowercased()) { return (nil, .disabled) }
        guard let amount = Decimal(string: raw), amount >= 0 else {
            problems.append("\(name)=\(raw) must be an amount in USD such as 25 or 2.50, or none for no cap")
            return (nil, .explicit)
        }
        return (CostNano.from(usd: amount), .explicit)
    }

    /// What `serve` says at start about the global daily cap when it was not set to an amount.
    func spendWarning(spendsMoney: Bool) -> String? {
        guard spendsMoney else { return nil }
        switch globalDailyCapSource {
        case .explicit: return nil
        case .disabled:
            return
                "GLOBAL_DAILY_CAP_USD=none: there is no server-wide daily spending cap; only per-user caps bound what the OpenAI key spends."
        case .builtInDefault:
            return "GLOBAL_DAILY_CAP_USD is not set: applying the default server-wide cap of $\(Self.defaultGlobalDailyCapUSD)/day "
                + "(set an amount, or none to switch it off; an admin can change it on the admin page)."
        }
    }
}
