import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// A database failure while a job is admitted answers 503 `busy` with Retry-After, like an exhausted pool: nothing
/// stored, nothing internal in the answer, and the same request succeeds once the database answers again. The
/// faults are real SQL errors: a table the statements need is renamed away, then back.
@Suite struct AdmissionDatabaseFaultTests {
    static let busyMessage = "The server is busy; retry in a few seconds."

    @Test func aFailingUpstreamGateAnswersBusyAndStoresNothing() async throws {
        let provider = FakeImageProvider()
        try await CompatStartNowTests.withRunningWorker(provider: provider) { app, worker in
            try await app.renameTable("upstream_lanes", to: "upstream_lanes_away")
            let compat = try await app.postJSON("v1/images/generations", ["prompt": "gate down", "size": "1024x1024"])
            #expect(compat.status == .serviceUnavailable, "\(compat.json)")
            #expect(compat.headers.first(name: "Retry-After") == "2")
            #expect(compat.json[path: "error.code"] as? String == "busy")
            #expect(compat.json[path: "error.message"] as? String == Self.busyMessage)
            let native = try await app.postJSON("v1/generate?wait=5", ["prompt": "gate down", "size": "1024x1024"])
            #expect(native.status == .serviceUnavailable && native.errorCode == "busy", "\(native.json)")
            #expect(native.headers.first(name: "Retry-After") == "2")
            #expect(try await app.storedRows() == [0, 0, 0], "no job, event or reservation")
            #expect(worker.inFlight == 0 && worker.startedAtAdmission == 0, "the reserved start was given back")
            #expect(await provider.callCount == 0)

            try await app.renameTable("upstream_lanes_away", to: "upstream_lanes")
            let again = try await app.postJSON("v1/images/generations", ["prompt": "gate up", "size": "1024x1024"])
            #expect(again.status == .ok, "\(again.json)")
            #expect(worker.startedAtAdmission == 1)
        }
    }

    @Test func aFailingStatementInTheAdmissionTransactionAnswersBusy() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            try await app.renameTable("job_events", to: "job_events_away")
            let refused = try await app.postJSON("v1/generate", ["prompt": "events down", "size": "1024x1024"])
            #expect(refused.status == .serviceUnavailable && refused.errorCode == "busy", "\(refused.json)")
            #expect(refused.headers.first(name: "Retry-After") == "2")
            #expect(refused.json[path: "error.message"] as? String == Self.busyMessage)
            try await app.renameTable("job_events_away", to: "job_events")
            #expect(try await app.storedRows() == [0, 0, 0])
            #expect(try await app.postJSON("v1/generate", ["prompt": "events up", "size": "1024x1024"]).status == .accepted)
        }
    }
}

extension Application {
    func renameTable(_ name: String, to newName: String) async throws {
        try await (db as! any SQLDatabase).raw("ALTER TABLE \(ident: name) RENAME TO \(ident: newName)").run()
    }

    /// Rows in jobs, job_events and spend_ledger.
    func storedRows() async throws -> [Int] {
        var counts: [Int] = []
        for table in ["jobs", "job_events", "spend_ledger"] {
            let row = try await (db as! any SQLDatabase).raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()
            counts.append(try row?.decode(column: "n", as: Int.self) ?? -1)
        }
        return counts
    }
}
