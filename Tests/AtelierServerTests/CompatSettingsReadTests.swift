import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// The compatible generations route reads its settings (kill switch, the early images-per-minute check) after decoding its
/// body: what it read decides, and a body refused is answered for itself, whatever the settings say (an experiment that
/// sent the read before the decode gained 0.03–0.06 ms and was reverted; these tests stay).
@Suite struct CompatSettingsReadTests {
    @Test func theKillSwitchRefusesAValidBodyAndABadBodyIsRefusedForItself() async throws {
        try await CompatStartNowTests.withRunningWorker { app, _ in
            try await app.db.sql.raw("INSERT INTO app_settings (name, value) VALUES ('kill_switch', 'true')").run()
            let stopped = try await app.postJSON("v1/images/generations", ["prompt": "a lighthouse"])
            #expect(stopped.status == .serviceUnavailable)
            #expect(stopped.json[path: "error.code"] as? String == "kill_switch")
            let badFormat = try await app.postJSON("v1/images/generations", ["prompt": "a lighthouse", "response_format": "url"])
            #expect(badFormat.status == .badRequest)
            #expect(badFormat.json[path: "error.param"] as? String == "response_format")
            let notJSON = try await app.send(
                .POST, "v1/images/generations", headers: ["Content-Type": "application/json"], body: ByteBuffer(string: "{"))
            #expect(notJSON.status == .badRequest)
            try await app.db.sql.raw("UPDATE app_settings SET value = 'false' WHERE name = 'kill_switch'").run()
            #expect(try await app.postJSON("v1/images/generations", ["prompt": "a lighthouse"]).status == .ok)
        }
    }

    @Test func theEarlyImagesPerMinuteCheckStillRefusesACallerAtItsLimit() async throws {
        var config = try AtelierConfig.testing()
        config.access.imagesPerMinute = 1
        try await CompatStartNowTests.withRunningWorker(config) { app, _ in
            #expect(try await app.postJSON("v1/images/generations", ["prompt": "the one"]).status == .ok)
            let refused = try await app.postJSON("v1/images/generations", ["prompt": "one too many"])
            #expect(refused.status == .tooManyRequests)
            #expect(try await JobRecord.query(on: app.db).count() == 1, "refused before a job was created")
        }
    }
}
