import AtelierServer
import Foundation

extension AtelierClock {
    /// The day `withTestApp` runs on unless a test passes its own clock: model shutdown dates act on the date, so
    /// no test may depend on the real one.
    public static let testDay = "2026-11-15"

    /// Noon UTC of `day` (YYYY-MM-DD), then advancing with real elapsed time.
    public static func pinned(day: String = testDay) -> AtelierClock {
        let noon = (try? Date.ISO8601FormatStyle().year().month().day().parse(day))?.timeIntervalSince1970 ?? 0
        let start = ContinuousClock.now
        return AtelierClock {
            let elapsed = ContinuousClock.now - start
            return noon + 43_200 + Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
    }
}
