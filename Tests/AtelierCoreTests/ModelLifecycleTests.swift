import AtelierCore
import Foundation
import Testing

/// Dates that act on the bundled registry: deprecated within the notice days, retired (with its replacement) from
/// the shutdown date, and a default model that can never be one that has shut down. Times are pinned, never "now".
@Suite struct ModelLifecycleTests {
    static func noon(_ day: String) -> Double {
        (try! Date.ISO8601FormatStyle().year().month().day().parse(day)).timeIntervalSince1970 + 43_200
    }

    let bundled = try! ModelRegistry.bundled()

    @Test func theDayBeforeShutdownTheModelIsDeprecatedAndStillServed() throws {
        let registry = bundled.asOf(Self.noon("2026-11-30"))
        let model = try #require(registry.model("gpt-image-1.5"))
        #expect(model.status == .deprecated)
        #expect(try registry.resolve("gpt-image-1.5", for: .generations).id == "gpt-image-1.5")
        let notices = bundled.deprecations(asOf: Self.noon("2026-11-30"))
        #expect(notices.map(\.model) == ["chatgpt-image-latest", "gpt-image-1-mini", "gpt-image-1.5"])
        #expect(notices.allSatisfy { $0.daysLeft == 1 && $0.shutdownDate == "2026-12-01" })
        #expect(notices.first { $0.model == "gpt-image-1.5" }?.replacement == "gpt-image-2.5-sunburst")
    }

    @Test func onTheShutdownDateTheModelIsRefusedNamingItsReplacement() throws {
        let registry = bundled.asOf(Self.noon("2026-12-01"))
        #expect(registry.model("gpt-image-1.5") == nil)
        #expect(
            registry.retired.contains(RetiredModel(id: "gpt-image-1.5", retiredOn: "2026-12-01", replacement: "gpt-image-2.5-sunburst")))
        for endpoint in [ImageModel.Endpoint.generations, .edits] {
            #expect {
                try registry.resolve("gpt-image-1.5", for: endpoint)
            } throws: { error in
                let error = error as? ValidationError
                return error?.field == "model" && error?.code == "model_retired"
                    && error?.message == "Model 'gpt-image-1.5' was shut down on 2026-12-01; use 'gpt-image-2.5-sunburst' instead."
            }
        }
        #expect(bundled.deprecations(asOf: Self.noon("2026-12-01")).isEmpty)
        #expect(try registry.resolve("gpt-image-2.6-flare", for: .generations).id == "gpt-image-2.6-flare")
    }

    @Test func deprecatedFromThirtyDaysBefore() throws {
        var registry = bundled
        let index = try #require(registry.models.firstIndex { $0.id == "gpt-image-2" })
        registry.models[index].shutdownDate = "2027-03-31"
        registry.models[index].replacement = "gpt-image-2.6-flare"
        #expect(registry.asOf(Self.noon("2027-02-28")).model("gpt-image-2")?.status == .current)  // 31 days before
        #expect(registry.asOf(Self.noon("2027-03-01")).model("gpt-image-2")?.status == .deprecated)  // 30 days
        #expect(registry.deprecations(asOf: Self.noon("2027-03-01")).first?.daysLeft == 30)
        #expect(registry.asOf(Self.noon("2027-03-31")).defaultModel == "gpt-image-2.6-flare")
    }

    @Test func theDefaultModelFallsBackAlongTheReplacementChain() throws {
        var registry = bundled
        registry.defaultModel = "gpt-image-1.5"
        // gpt-image-1.5 → gpt-image-2.5-sunburst, which is made to shut down too → gpt-image-2.6-sunburst
        let index = try #require(registry.models.firstIndex { $0.id == "gpt-image-2.5-sunburst" })
        registry.models[index].shutdownDate = "2026-11-20"
        registry.models[index].replacement = "gpt-image-2.6-sunburst"
        let dated = registry.asOf(Self.noon("2026-12-02"))
        #expect(dated.defaultModel == "gpt-image-2.6-sunburst")
        #expect(dated.retired.first { $0.id == "gpt-image-1.5" }?.replacement == "gpt-image-2.6-sunburst")
        #expect(try dated.resolve(nil, for: .generations).id == "gpt-image-2.6-sunburst")
    }

    @Test func aShutDownModelCannotBeConfiguredAsTheDefault() throws {
        #expect(throws: RegistryError.self) { try bundled.withDefaultModel("gpt-image-1.5", at: Self.noon("2026-12-01")) }
        #expect(throws: RegistryError.self) { try bundled.withDefaultModel("gpt-image-1", at: Self.noon("2026-12-01")) }
        #expect(
            try bundled.withDefaultModel("gpt-image-2.6-sunburst", at: Self.noon("2026-12-01")).defaultModel == "gpt-image-2.6-sunburst")
    }

    @Test func dayIsTheUTCCalendarDay() {
        #expect(ModelRegistry.day(of: Self.noon("2026-12-01") - 43_200) == "2026-12-01")
        #expect(ModelRegistry.day(of: Self.noon("2026-12-01") - 43_201) == "2026-11-30")
    }
}
