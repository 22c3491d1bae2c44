import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// `GET /v1/batches/{id}/archive`: a ZIP with `batch.csv` (parameters, cost, file names) and the output images.
@Suite struct BatchArchiveTests {
    /// Python's zipfile and csv read the archive: `{"names": [...], "csv": [[...]...], "sizes": {name: bytes}}`.
    static func pythonRead(_ path: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import csv, io, json, sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            rows = list(csv.reader(io.StringIO(z.read("batch.csv").decode("utf-8"), newline="")))
            print(json.dumps({"names": z.namelist(), "csv": rows, "sizes": {i.filename: i.file_size for i in z.infolist()}}))
            """, path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func archiveHoldsTheCSVAndEveryOutputInBatchOrder() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let created = try await app.postJSON(
                "v1/batches",
                [
                    "name": "Archive", "mode": "live", "prompt": "a {{subject}} in {{style}}",
                    "csv": "subject,style\n\"harbour, at dusk\",ink\nlighthouse,\"say \"\"hi\"\"\"\n",
                    "model": "gpt-image-1.5", "size": "1024x1024", "quality": "low",
                ])
            #expect(created.status == .created, "\(created.json)")
            let id = try #require(created.json["id"] as? String)
            try await app.drainJobs(app.makeJobWorker())
            let jobs = try await app.batchJobs(id)
            let response = try await app.send(.GET, "v1/batches/\(id)/archive")
            #expect(response.status == .ok)
            #expect(response.headers.contentType?.subType == "zip")
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString).zip").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            FileManager.default.createFile(atPath: path, contents: Data(response.body.readableBytesView))
            let read = try Self.pythonRead(path)
            #expect(read["names"] as? [String] == ["batch.csv", "00001-1.png", "00002-1.png"])
            let rows = try #require(read["csv"] as? [[String]])
            #expect(
                rows.first == [
                    "index", "row", "subject", "style", "prompt", "model", "size", "quality", "status", "cost_usd", "seconds", "file",
                ])
            #expect(rows.count == 3)
            #expect(rows[1][0...3] == ["1", "1", "harbour, at dusk", "ink"])
            #expect(rows[2][2...4] == ["lighthouse", "say \"hi\"", "a lighthouse in say \"hi\""])
            for (row, job) in zip(rows.dropFirst(), jobs) {
                #expect(row[5...8] == ["gpt-image-1.5", "1024x1024", "low", "succeeded"])
                let cost = try #require(job["cost_usd"] as? Double)
                #expect(abs((Double(row[9]) ?? -1) - cost) < 1e-12)
                #expect(Double(row[10]) != nil)
                let image = try #require((job["images"] as? [[String: Any]])?.first)
                #expect((read["sizes"] as? [String: Int])?[row[11]] == image["bytes"] as? Int)
            }
        }
    }

    @Test func anotherOwnersOrAnUnknownBatchIs404() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let missing = try await app.send(.GET, "v1/batches/\(UUID().uuidString)/archive")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
        }
    }
}
