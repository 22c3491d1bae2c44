import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// `GET /v1/admin/models/check` (and `atelier models check`, tests/registry) against the stand-in's `/v1/models`.
@Suite struct ModelsCheckTests {
    @Test func theBundledRegistryAgreesWithTheStandInsList() async throws {
        try await StandInServer.run { standIn in
            try await withTestApp(try UpstreamEndToEndTests.config(standIn)) { app in
                let report = try await app.send(.GET, "v1/admin/models/check")
                #expect(report.status == .ok, "\(report.json)")
                #expect(report.json["new"] as? [String] == [] && report.json["gone"] as? [String] == [])
                #expect((report.json["changed"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func newGoneAndChangedModelsAreReported() async throws {
        try await StandInServer.run { standIn in
            var upstream = try Self.upstreamList(without: "gpt-image-2.6-flare", dating: "gpt-image-2", "2027-06-30")
            upstream += [["id": "gpt-image-2.7-ember"], ["id": "gpt-5"], ["id": "gpt-image-1", "shutdown_date": "2026-10-23"]]
            try await standIn.setModels(upstream)
            try await withTestApp(try UpstreamEndToEndTests.config(standIn)) { app in
                let report = try await app.send(.GET, "v1/admin/models/check").json
                #expect(report["new"] as? [String] == ["gpt-image-2.7-ember"])
                #expect(report["gone"] as? [String] == ["gpt-image-2.6-flare"])
                let changed = report["changed"] as? [[String: Any]] ?? []
                #expect(changed.count == 1)
                #expect(changed.first?["model"] as? String == "gpt-image-2" && changed.first?["field"] as? String == "shutdown_date")
                #expect(changed.first?["upstream"] as? String == "2027-06-30" && (changed.first?["registry"] as? String) == nil)
            }
        }
    }

    /// On the day three models shut down: one the upstream no longer lists is not "gone", one it lists with the
    /// same date agrees, and one whose shutdown the upstream put off is reported, since Atelier refuses it meanwhile.
    @Test func aShutDownModelTheUpstreamStillServesLaterIsReportedChanged() async throws {
        try await StandInServer.run { standIn in
            try await standIn.setModels(try Self.upstreamList(without: "chatgpt-image-latest", dating: "gpt-image-1.5", "2027-01-15"))
            let clock = ManualClock(ModelDatesTests.noon("2026-12-01"))
            try await withTestApp(try UpstreamEndToEndTests.config(standIn), overrides: .init(clock: clock.clock)) { app in
                let report = try await app.send(.GET, "v1/admin/models/check").json
                #expect(report["new"] as? [String] == [] && report["gone"] as? [String] == [], "\(report)")
                let changed = report["changed"] as? [[String: Any]] ?? []
                #expect(changed.count == 1, "\(changed)")
                #expect(changed.first?["model"] as? String == "gpt-image-1.5" && changed.first?["field"] as? String == "shutdown_date")
                #expect(changed.first?["registry"] as? String == "2026-12-01" && changed.first?["upstream"] as? String == "2027-01-15")
            }
        }
    }

    /// The bundled registry's models as the upstream would list them, without one and with another's date changed.
    static func upstreamList(without missing: String, dating changed: String, _ date: String) throws -> [[String: Any]] {
        try ModelRegistry.bundled().models.filter { $0.id != missing }.map { model in
            var entry: [String: Any] = ["id": model.id]
            if let shutdown = model.shutdownDate { entry["shutdown_date"] = shutdown }
            if model.id == changed { entry["shutdown_date"] = date }
            return entry
        }
    }

    @Test func offlineThereIsNothingToCompareWith() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let report = try await app.send(.GET, "v1/admin/models/check")
            #expect(report.status == .conflict)
            #expect(report.errorCode == "no_upstream")
        }
    }

    @Test func reportLinesNameEachDifference() {
        let report = ModelsCheckReport(
            new: ["gpt-image-3"], gone: ["gpt-image-2"],
            changed: [.init(model: "gpt-image-2.5-flare", field: "shutdown_date", registry: nil, upstream: "2027-01-01")])
        #expect(
            report.lines == [
                "new      gpt-image-3: listed upstream, not in the registry",
                "gone     gpt-image-2: in the registry, no longer listed upstream",
                "changed  gpt-image-2.5-flare shutdown_date: registry none, upstream 2027-01-01",
            ])
        #expect(!report.agrees)
    }
}
