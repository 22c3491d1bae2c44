import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// Archives are streamed entry by entry, with ZIP64 where needed and a size limit (issue 10, item 3).
@Suite struct ArchiveStreamTests {
    /// Python's zipfile reads the archive: `[[name, header_offset, size]…]`, or an error message.
    static func pythonRead(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import json, sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            print(json.dumps([[i.filename, i.header_offset, len(z.read(i))] for i in z.infolist()]))
            """, path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func entriesPast4GiBGetZip64RecordsThatPythonReads() throws {
        let start: UInt64 = 0xFFFF_FFF0
        var zip = ZipArchiveWriter(startingAt: start)
        let first = zip.add(name: "a.txt", data: Data("hello".utf8))  // starts below 4 GiB, ends above
        let second = zip.add(name: "b.txt", data: Data(repeating: 7, count: 1000))  // starts above: ZIP64 offset
        let trailer = zip.finish()
        #expect(trailer.range(of: Data([0x50, 0x4b, 0x06, 0x06])) != nil, "ZIP64 end of central directory")
        #expect(trailer.range(of: Data([0x50, 0x4b, 0x06, 0x07])) != nil, "ZIP64 locator")
        // A sparse file holds the archive at its real offsets without writing 4 GiB.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zip64-\(UUID().uuidString).zip").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: start)
        for part in [first, second, trailer] { try handle.write(contentsOf: part) }
        try handle.close()
        let read = try Self.pythonRead(path)
        #expect(read == "[[\"a.txt\", \(start), 5], [\"b.txt\", \(start + UInt64(first.count)), 1000]]", "\(read)")
    }

    @Test func theExportIsStreamedAndReadableAndTooLargeArchivesAre413() async throws {
        var access = AtelierConfig.Access.localTesting
        access.maxArchiveBytes = 10_000_000
        try await withTestApp(try .testing(access: access), overrides: .init(provider: FakeImageProvider())) { app in
            for prompt in ["one", "two"] { _ = try await app.postJSON("v1/generate", ["prompt": prompt, "size": "1024x1024"]) }
            try await app.drainJobs(app.makeJobWorker())
            let export = try await app.postJSON("v1/me/export", [String: String]())
            #expect(export.status == .ok)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).zip").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            FileManager.default.createFile(atPath: path, contents: Data(export.body.readableBytesView))
            let read = try Self.pythonRead(path)
            #expect(read.contains("\"jobs.json\"") && read.components(separatedBy: "\"images/").count == 3, "\(read)")

        }
        access.maxArchiveBytes = 1_000  // less than one image
        try await withTestApp(try .testing(access: access), overrides: .init(provider: FakeImageProvider())) { app in
            let job = try #require(try await app.postJSON("v1/generate", ["prompt": "one"]).json["id"] as? String)
            try await app.drainJobs(app.makeJobWorker())
            let refused = try await app.postJSON("v1/me/export", [String: String]())
            #expect(refused.status == .payloadTooLarge)
            #expect(refused.errorCode == "archive_too_large")
            let zip = try await app.postJSON("v1/images/zip", ["job_ids": [job]])
            #expect(zip.status == .payloadTooLarge)
            #expect(refused.errorCode == "archive_too_large")
        }
    }
}
