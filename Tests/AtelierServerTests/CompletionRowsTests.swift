import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor

/// A job's success as the worker commits it, from the row it holds (`succeed(…, held:)`: on PostgreSQL the one
/// statement `atelier_complete_job`, on SQLite hand-written statements reading back three columns), writes the same
/// rows as the transition that reads the whole row back (`RETURNING *`): job, images, events, ledger, periods,
/// overruns and webhook deliveries, compared as text on both databases. On PostgreSQL it is one round trip.
@Suite struct CompletionRowsTests {
    static let cost: Int64 = 70_000_000

    @Test(arguments: [false, true])
    func theHeldRowWritesWhatTheReturnedRowWrites(unstored: Bool) async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            // setup: two running jobs of two owners, a webhook for everyone, caps the exact cost passes
            let harness = JobLifecycleHarness(app: app, clock: clock)
            try await WebhookRecord(
                owner: WebhookRecord.everyone, url: "https://hooks.example/a", events: ["job.succeeded", "job.failed"], secret: "s",
                now: clock.now
            ).create(on: app.db)
            let a = try await harness.job(in: .running, owner: "owner-a")
            let b = try await harness.job(in: .running, owner: "owner-b")
            try await app.db.sql.raw("UPDATE spend_ledger SET cap_day_nano = 50000000, cap_month_nano = 60000000").run()
            let held = try #require(try await Self.row(a, app))
            // MUT
            let viaHeld = try #require(try await Self.succeed(a, owner: "owner-a", harness, held: held, unstored: unstored))
            let viaRow = try #require(try await Self.succeed(b, owner: "owner-b", harness, held: nil, unstored: unstored))
            // validate: the same rows, and the same job and events handed to the streams
            let (rowsA, rowsB) = (try await Self.rows(a, owner: "owner-a", app), try await Self.rows(b, owner: "owner-b", app))
            #expect(rowsA == rowsB)
            #expect(
                rowsA.contains { $0.hasPrefix("spend_overruns:") } && rowsA.contains { $0.hasPrefix("webhook_deliveries:") }, "\(rowsA)")
            #expect(
                viaHeld.overruns.map(\.cap) == viaRow.overruns.map(\.cap) && viaHeld.overruns.map(\.cap).sorted() == ["daily", "monthly"])
            #expect(viaHeld.events.map(\.event.seq) == viaRow.events.map(\.event.seq))
            #expect(viaHeld.events.count == (unstored ? 2 : 1))
            let (imagesA, imagesB) = (try await Self.imageIDs(a, app), try await Self.imageIDs(b, app))
            let normalized = { (published: JobLifecycle.Published, id: UUID, images: [UUID]) in
                published.events.map { Self.normalize($0.event.payload, job: id, owner: "", images: images) }
            }
            #expect(normalized(viaHeld, a, imagesA) == normalized(viaRow, b, imagesB))
            let stored = try #require(try await Self.row(a, app))
            #expect(try Self.fields(try #require(viaHeld.job)) == Self.fields(stored), "the held model is the row as stored")
        }
    }

    @Test func aLostLeaseWritesNothingAndLeavesTheHeldRowAsItWas() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let harness = JobLifecycleHarness(app: app, clock: clock)
            let id = try await harness.job(in: .running, owner: "owner-a")
            let held = try #require(try await Self.row(id, app))
            let before = try await harness.snapshot(id)
            // MUT: another worker's completion
            let published = try await harness.lifecycle.succeed(
                id, kind: .generate, workerID: "another", with: Self.success(id, owner: "owner-a", unstored: false, at: clock.now),
                held: held)
            // validate
            #expect(published == nil)
            #expect(try await harness.snapshot(id) == before)
            #expect(try await AdmissionGroupCommitTests.count("SELECT COUNT(*) AS n FROM images", app) == 0)
            #expect(held.status == "running" && held.leaseOwner == JobLifecycleHarness.worker && held.seq == before.seq)
        }
    }

    /// A star given while the job runs changes the row under the worker: the completion still shows it (on
    /// PostgreSQL the function refuses and the transactional path commits).
    @Test func aStarGivenWhileRunningIsKept() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let harness = JobLifecycleHarness(app: app, clock: clock)
            let id = try await harness.job(in: .running, owner: "owner-a")
            let held = try #require(try await Self.row(id, app))
            try await app.db.sql.raw("UPDATE jobs SET favorite = \(bind: true) WHERE id = \(bind: id)").run()
            // MUT
            let published = try #require(try await Self.succeed(id, owner: "owner-a", harness, held: held, unstored: false))
            // validate
            #expect(published.job?.favorite == true && published.job?.status == "succeeded")
            #expect(published.events.first?.event.payload.contains("\"favorite\":true") == true)
            let after = try await harness.snapshot(id)
            #expect(after.status == "succeeded" && after.ledger == "settled" && after.lastEventSeq == after.seq)
        }
    }

    @Test(.enabled(if: TestDatabase.isPostgres, "needs TEST_DATABASE_URL"))
    func aCompletionIsOneStatementOnPostgres() async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), clock: clock.clock)) { app in
            let harness = JobLifecycleHarness(app: app, clock: clock)
            let plain = try await harness.job(in: .running, owner: "owner-a")
            let hooked = try await harness.job(in: .running, owner: "owner-b")
            try await WebhookRecord(
                owner: "owner-b", url: "https://hooks.example/b", events: ["job.succeeded"], secret: "s", now: clock.now
            )
            .create(on: app.db)
            let (plainRow, hookedRow) = (try #require(try await Self.row(plain, app)), try #require(try await Self.row(hooked, app)))
            let logs = PostgresAdmissionTests.capture(app)
            // MUT: no webhook, then one
            _ = try #require(try await Self.succeed(plain, owner: "owner-a", harness, held: plainRow, unstored: false))
            let first = Self.statements(logs)
            _ = try #require(try await Self.succeed(hooked, owner: "owner-b", harness, held: hookedRow, unstored: false))
            let both = Self.statements(logs)
            // validate: one round trip; with a subscribed endpoint a second call (the first wrote nothing)
            #expect(first.count == 1 && first.allSatisfy { $0.contains("atelier_complete_job") }, "\(first)")
            #expect(both.count == 3 && both.allSatisfy { $0.contains("atelier_complete_job") }, "\(both)")
            #expect(try await AdmissionGroupCommitTests.count("SELECT COUNT(*) AS n FROM webhook_deliveries", app) == 1)
            #expect(try await AdmissionGroupCommitTests.count("SELECT COUNT(*) AS n FROM images", app) == 2)
            for id in [plain, hooked] {
                let after = try await harness.snapshot(id)
                #expect(after.status == "succeeded" && after.ledger == "settled" && after.lastEventSeq == after.seq, "\(after)")
            }
        }
    }

    // MARK: Helpers

    static func row(_ id: UUID, _ app: Application) async throws -> JobRecord? {
        try await app.db.sql.raw("SELECT * FROM jobs WHERE id = \(bind: id)").first().map(JobRecord.init(row:))
    }

    static func success(_ id: UUID, owner: String, unstored: Bool, at now: Double) -> JobLifecycle.Success {
        let result = JobResultInfo(size: "1024x1024", quality: "low", background: "opaque", outputFormat: "png")
        let image = ImageRecord(
            jobID: id, owner: owner, role: .output, index: 0, blobKey: "blob-1", thumbnailKey: nil, format: "png", width: 1024,
            height: 1024, bytes: 3_000_000, now: now)
        var success = JobLifecycle.Success(
            outcome: JobOutcome(images: [image], usage: FakeImageProvider.defaultUsage, requestID: "req_1", result: result),
            costNano: cost, upstreamKey: "default")
        if unstored { success.unstored = JobFailure(code: "storage_failed", message: "disk full") }
        return success
    }

    static func succeed(
        _ id: UUID, owner: String, _ harness: JobLifecycleHarness, held: JobRecord?, unstored: Bool
    ) async throws -> JobLifecycle.Published? {
        try await harness.lifecycle.succeed(
            id, kind: .generate, workerID: JobLifecycleHarness.worker,
            with: success(id, owner: owner, unstored: unstored, at: harness.clock.now), held: held)
    }

    /// Every row the completion wrote or changed, as text, ids and owner replaced.
    static func rows(_ id: UUID, owner: String, _ app: Application) async throws -> [String] {
        let tables: [(String, [String], SQLQueryString)] = [
            ("jobs", JobRecord.keys.map(\.description).filter { $0 != "id" }, "id = \(bind: id)"),
            (
                "images", ["owner", "role", "\"index\"", "blob_key", "thumbnail_key", "format", "width", "height", "bytes", "created_at"],
                "job_id = \(bind: id)"
            ),
            ("job_events", ["owner", "seq", "type", "payload", "created_at"], "job_id = \(bind: id)"),
            (
                "spend_ledger",
                [
                    "owner", "day", "month", "reserved_nano", "settled_nano", "state", "updated_at", "charged_nano",
                    "cap_day_nano", "cap_month_nano", "cap_global_nano",
                ], "job_id = \(bind: id)"
            ),
            ("spend_periods", ["subject", "period", "amount_nano"], "subject = \(bind: owner)"),
            ("spend_overruns", ["subject", "period", "cap_nano", "amount_nano", "created_at"], "job_id = \(bind: id)"),
            (
                "webhook_deliveries",
                [
                    "owner", "event_owner", "event_type", "payload", "dedupe_key", "status", "attempts",
                    "next_attempt_at", "window_start", "created_at",
                ], "event_owner = \(bind: owner)"
            ),
        ]
        let images = try await imageIDs(id, app)
        var lines: [String] = []
        for (table, columns, filter) in tables {
            let select = columns.map { "CAST(\($0) AS TEXT) AS c\($0.filter(\.isLetter))" }.joined(separator: ", ")
            for row in try await app.db.sql.raw("SELECT \(unsafeRaw: select) FROM \(unsafeRaw: table) WHERE \(filter)").all() {
                let values = try columns.map { column in
                    let value = try row.decode(column: "c\(column.filter(\.isLetter))", as: String?.self)
                    // A JSON column as its value: the encoder's key order differs from one encoding to the next.
                    return "\(column)=\(table == "jobs" ? try canonical(value) : value ?? "NULL")"
                }
                lines.append(normalize("\(table): " + values.joined(separator: " "), job: id, owner: owner, images: images))
            }
        }
        return lines.sorted()
    }

    static func imageIDs(_ id: UUID, _ app: Application) async throws -> [UUID] {
        try await app.db.sql.raw("SELECT id FROM images WHERE job_id = \(bind: id)").all().map {
            try $0.decode(column: "id", as: UUID.self)
        }
    }

    static func canonical(_ value: String?) throws -> String {
        guard let value else { return "NULL" }
        guard value.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(value.utf8)) else { return value }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: .sortedKeys), as: UTF8.self)
    }

    static func normalize(_ text: String, job: UUID, owner: String, images: [UUID] = []) -> String {
        var text = text.replacingOccurrences(of: job.uuidString.lowercased(), with: "JOB")
        for image in images { text = text.replacingOccurrences(of: image.uuidString.lowercased(), with: "IMAGE") }
        return owner.isEmpty ? text : text.replacingOccurrences(of: owner, with: "OWNER")
    }

    /// The model's columns as Fluent would write them.
    static func fields(_ job: JobRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(job), as: UTF8.self)
    }

    static func statements(_ logs: CapturedLogs) -> [String] {
        logs.all.filter {
            $0.contains("Executing query") && !$0.contains("lease_expires <") && !$0.contains("webhook_deliveries SET lease_owner")
        }
    }
}
