import AtelierCore
import Foundation

/// Conversions between USD amounts and the whole nano-dollars stored in the database.
enum CostNano {
    static func from(usd: Decimal) -> Int64 { CostCalculator.nanoDollars(usd) }

    static func usd(_ nano: Int64) -> Decimal { CostCalculator.dollars(nano: nano) }

    static func usd(_ nano: Int64?) -> Decimal? { nano.map(CostCalculator.dollars(nano:)) }
}
