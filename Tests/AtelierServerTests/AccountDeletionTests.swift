import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Privacy: deleting an account leaves no row and no blob of it; export holds my images and jobs; retention.
@Suite struct AccountDeletionTests {
    @Test func deletingAnAccountLeavesNoRowAndNoBlob() async throws {
        let blobs = InMemoryBlobStore()
        try await withAccountsApp(blobs: blobs) { app in
            // setup: A has jobs with outputs, partials, an edit re-using its image; B has a job too
            let a = try await app.makeAccount("a@example.com")
            let b = try await app.makeAccount("b@example.com")
            let first = try await app.finishedJob(as: a, ["prompt": "one", "partial_images": 2])
            let imageID = try #require(first[path: "images.0.id"] as? String)
            var form = MultipartBody()
            form.field("prompt", "again")
            form.field("image_id", imageID)
            let edit = try await app.send(.POST, "v1/edit", headers: a.bearer.merging(form.headers), body: form.buffer)
            #expect(edit.status == .accepted)
            try await app.drainJobs(app.makeJobWorker())
            let bJob = try await app.finishedJob(as: b)
            let bJobID = try #require(bJob["id"] as? String)
            let aJobIDs = try await JobRecord.query(on: app.db).filter(\.$owner == a.owner).all(\.$id).map { $0.uuidString.lowercased() }
            #expect(aJobIDs.count == 2)
            // MUT
            let deleted = try await app.sendJSON(.DELETE, "v1/me", ["password": TestAccount.password], headers: a.browser)
            // validate
            #expect(deleted.status == .noContent)
            let userID = try a.user.requireID()
            let checks: [(String, String, any Encodable & Sendable)] = [
                ("users", "id", userID), ("api_keys", "user_id", userID), ("sessions", "user_id", userID),
                ("jobs", "owner", a.owner), ("images", "owner", a.owner), ("job_events", "owner", a.owner),
                ("spend_ledger", "owner", a.owner), ("spend_periods", "subject", a.owner),
                ("rate_counters", "subject", "req:\(a.owner)"), ("rate_counters", "subject", "img:\(a.owner)"),
            ]
            for (table, column, value) in checks {
                let found = try await app.count(table, where: column, is: value)
                #expect(found == 0, "\(table).\(column) still holds \(found) rows")
            }
            #expect(try await UserRecord.query(on: app.db).filter(\.$email == "a@example.com").count() == 0)
            let keys = await blobs.keys.map(\.value)
            for jobID in aJobIDs { #expect(!keys.contains { $0.contains(jobID) }, "blob of \(jobID) left") }
            #expect(keys.contains { $0.contains(bJobID) })
            #expect(try await app.send(.GET, "v1/jobs/\(bJobID)", headers: b.bearer).status == .ok)
            #expect(try await app.send(.GET, "v1/me", headers: a.bearer).status == .unauthorized)
        }
    }

    @Test func exportHoldsMyImagesAndJobs() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("a@example.com")
            let job = try await app.finishedJob(as: a)
            let jobID = try #require(job["id"] as? String)
            let export = try await app.postJSON("v1/me/export", ["password": TestAccount.password], headers: a.browser)
            #expect(export.status == .ok)
            #expect(export.headers.contentType?.subType == "zip")
            let text = String(decoding: Data(export.body.readableBytesView), as: UTF8.self)
            #expect(text.contains("jobs.json") && text.contains("account.json") && text.contains("images/atelier-"))
            #expect(text.contains(jobID))
            #expect(!text.contains("password"))
        }
    }

    @Test func deletingAnAccountRemovesItsBatchesTheirJobsImagesAndReservations() async throws {
        let blobs = InMemoryBlobStore()
        try await withAccountsApp(blobs: blobs) { app in
            // setup: A has a finished batch (images) and a queued one (reservations held); B has a batch too
            let a = try await app.makeAccount("a@example.com")
            let b = try await app.makeAccount("b@example.com")
            let body: [String: Any] = ["prompt": "a {{subject}}", "csv": batchCSV(rows: 3)]
            #expect(try await app.postJSON("v1/batches", body, headers: a.bearer).status == .created)
            try await app.drainJobs(app.makeJobWorker())
            let queued = try await app.postJSON("v1/batches", body, headers: a.bearer)
            #expect(queued.status == .created, "\(queued.json)")
            let bBatch = try await app.postJSON("v1/batches", body, headers: b.bearer)
            let bBatchID = try #require(bBatch.json["id"] as? String)
            #expect(try await app.count("images", where: "owner", is: a.owner) == 3)
            #expect(try await app.count("spend_ledger", where: "owner", is: a.owner) == 6)
            let aJobIDs = try await JobRecord.query(on: app.db).filter(\.$owner == a.owner).all(\.$id).map { $0.uuidString.lowercased() }
            // MUT
            let deleted = try await app.sendJSON(.DELETE, "v1/me", ["password": TestAccount.password], headers: a.browser)
            // validate
            #expect(deleted.status == .noContent)
            for table in ["batches", "jobs", "images", "spend_ledger", "job_events"] {
                #expect(try await app.count(table, where: "owner", is: a.owner) == 0, "\(table) still holds rows of A")
            }
            let keys = await blobs.keys.map(\.value)
            for jobID in aJobIDs { #expect(!keys.contains { $0.contains(jobID) }, "blob of \(jobID) left") }
            let bLeft = try await app.send(.GET, "v1/batches/\(bBatchID)", headers: b.bearer)
            #expect(bLeft.status == .ok)
            #expect(bLeft.json[path: "counts.queued"] as? Int == 3)
            #expect(try await app.count("spend_ledger", where: "owner", is: b.owner) == 3)
        }
    }

    @Test func exportHoldsMyBatchesWithTemplateOptionsCountsAndCost() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("a@example.com")
            let b = try await app.makeAccount("b@example.com")
            let body: [String: Any] = [
                "name": "lighthouses", "prompt": "a {{subject}} in {{style}}", "csv": batchCSV(rows: 2),
                "sweep": ["quality": ["low", "medium"]], "size": "1024x1024",
            ]
            let created = try await app.postJSON("v1/batches", body, headers: a.bearer)
            #expect(created.status == .created, "\(created.json)")
            try await app.drainJobs(app.makeJobWorker())
            let shown = try await app.send(.GET, "v1/batches/\(created.json["id"] as? String ?? "")", headers: a.bearer).json
            let other = try await app.postJSON(
                "v1/batches", ["name": "not mine", "prompt": "a {{subject}}", "csv": batchCSV(rows: 1)], headers: b.bearer)
            #expect(other.status == .created)
            // MUT
            let export = try await app.postJSON("v1/me/export", ["password": TestAccount.password], headers: a.browser)
            // validate: the ZIP stores batches.json as is; it is the batch as GET /v1/batches/{id} shows it
            #expect(export.status == .ok)
            let batches = try #require(try Self.storedJSON("batches.json", in: export) as? [[String: Any]])
            #expect(batches.count == 1)
            let batch = try #require(batches.first)
            #expect(batch["name"] as? String == "lighthouses")
            #expect(batch["prompt"] as? String == "a {{subject}} in {{style}}")
            #expect(batch[path: "options.size"] as? String == "1024x1024")
            #expect(batch[path: "sweep.quality"] as? [String] == ["low", "medium"])
            #expect(batch[path: "counts.total"] as? Int == 4 && batch[path: "counts.succeeded"] as? Int == 4)
            #expect((batch["cost_usd"] as? NSNumber)?.doubleValue ?? 0 > 0)
            for key in ["id", "counts", "estimated_cost_usd", "cost_usd", "status", "variables"] {
                #expect(batch[key] as? NSObject == shown[key] as? NSObject && batch[key] != nil, "\(key)")
            }
        }
    }

    /// The JSON of a file the export stores uncompressed: the bytes after its local header (PK\u{3}\u{4}).
    static func storedJSON(_ name: String, in export: TestingHTTPResponse) throws -> Any {
        let bytes = [UInt8](export.body.readableBytesView)
        let nameBytes = [UInt8](name.utf8)
        func le(_ at: Int, _ count: Int) -> Int { (0..<count).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        var at = 0
        while at + 30 + nameBytes.count <= bytes.count {
            let isHeader = le(at, 4) == 0x0403_4b50 && le(at + 26, 2) == nameBytes.count
            if isHeader && Array(bytes[(at + 30)..<(at + 30 + nameBytes.count)]) == nameBytes {
                let body = at + 30 + nameBytes.count + le(at + 28, 2)
                return try JSONSerialization.jsonObject(with: Data(bytes[body..<(body + le(at + 18, 4))]))
            }
            at += 1
        }
        throw ExportEntryMissing(name: name)
    }

    struct ExportEntryMissing: Error { var name: String }

    @Test func retentionDeletesFinishedJobsOlderThanTheSetting() async throws {
        let blobs = InMemoryBlobStore()
        try await withAccountsApp(blobs: blobs) { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let job = try await app.finishedJob(as: admin)
            let id = try #require(job["id"] as? String)
            try await (app.db as! any SQLDatabase).raw("UPDATE jobs SET created_at = created_at - 864000").run()
            let fresh = try await app.finishedJob(as: admin)
            _ = try await app.send(
                .PUT, "v1/admin/settings", headers: admin.bearer.merging(["Content-Type": "application/json"]),
                body: ByteBuffer(string: #"{"retention_days": 7}"#))
            let services = app.atelier
            let housekeeping = Housekeeping(
                database: app.db, blobs: services.blobs, clock: services.clock, access: services.config.access,
                registry: services.liveRegistry)
            try await housekeeping.run()
            #expect(try await app.send(.GET, "v1/jobs/\(id)", headers: admin.bearer).status == .notFound)
            #expect(try await app.send(.GET, "v1/jobs/\(fresh["id"] as? String ?? "")", headers: admin.bearer).status == .ok)
            #expect(!(await blobs.keys).contains { $0.value.contains(id) })
        }
    }
}
