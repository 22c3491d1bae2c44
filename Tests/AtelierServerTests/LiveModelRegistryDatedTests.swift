import AtelierCore
@testable import AtelierServer
import Foundation
import Testing

/// `LiveModelRegistry.dated(at:)` is worked out once per UTC day and registry: the same answer as `asOf` all day,
/// a new one from the first second of the next day, and at once after an admin's change (`apply`).
@Suite struct LiveModelRegistryDatedTests {
    @Test func theDatedRegistryFollowsTheDayAndTheAdminsChanges() throws {
        let live = LiveModelRegistry(base: try ModelRegistry.bundled())
        let lastSecond = ModelDatesTests.noon("2026-11-30") + 43_199  // 23:59:59 UTC, the day before gpt-image-1.5 shuts down
        let morning = ModelDatesTests.noon("2026-11-30") - 43_200
        #expect(live.dated(at: morning) == live.current.asOf(morning))
        #expect(live.dated(at: lastSecond) == live.current.asOf(lastSecond))
        #expect(live.dated(at: lastSecond).model("gpt-image-1.5") != nil)
        // The next second is the shutdown day.
        #expect(live.dated(at: lastSecond + 1).model("gpt-image-1.5") == nil)
        #expect(live.dated(at: lastSecond + 1).retirement(of: "gpt-image-1.5") != nil)
        // An admin's change shows the same day.
        let override = ModelOverrideRecord(modelID: "gpt-image-2.5-flare", now: lastSecond)
        override.enabled = false
        live.apply([override])
        #expect(live.dated(at: lastSecond + 2).model("gpt-image-2.5-flare")?.enabled == false)
        #expect(live.dated(at: lastSecond + 2) == live.current.asOf(lastSecond + 2))
        live.apply([])
        #expect(live.dated(at: lastSecond + 3).model("gpt-image-2.5-flare")?.enabled == true)
    }
}
