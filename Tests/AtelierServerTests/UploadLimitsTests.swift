import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Synchronization
import Testing
import Vapor
import VaporTesting

/// Bounded uploads (issue 10, item 3): limits on parts, text fields and text bytes; write errors are a 507 with
/// nothing left behind; staging is private under DATA_DIR.
@Suite struct UploadLimitsTests {
    static func post(_ app: Application, _ body: MultipartBody) async throws -> TestingHTTPResponse {
        try await app.send(.POST, "v1/edit", headers: body.headers, body: body.buffer)
    }

    static func field(_ response: TestingHTTPResponse) -> String? {
        (response.json["error"] as? [String: Any])?["field"] as? String
    }

    @Test func tooManyPartsTextFieldsOrTextBytesAreRefusedNamingTheField() async throws {
        try await withTestApp { app in
            var parts = MultipartBody()
            for index in 0..<65 { parts.file("image[]", filename: "\(index).png", BadImages.text) }
            let manyParts = try await Self.post(app, parts)
            #expect(manyParts.status == .payloadTooLarge)
            #expect(manyParts.errorCode == "too_many_parts")
            #expect(Self.field(manyParts) == "image[]")

            var fields = MultipartBody()
            for index in 0..<41 { fields.field("x\(index)", "1") }
            let manyFields = try await Self.post(app, fields)
            #expect(manyFields.status == .badRequest)
            #expect(manyFields.errorCode == "too_many_fields")
            #expect(Self.field(manyFields) == "x40")

            var text = MultipartBody()
            for index in 0..<5 { text.field("t\(index)", String(repeating: "a", count: 250_000)) }
            let bigText = try await Self.post(app, text)
            #expect(bigText.status == .payloadTooLarge)
            #expect(bigText.errorCode == "fields_too_large")
            #expect(Self.field(bigText) == "t4")
            #expect(try Self.leftovers(app).isEmpty)
        }
    }

    @Test func uploadsAreStagedPrivatelyUnderTheDataFolderAndRemovedAfterwards() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let seen = Mutex<[(folder: String, folderMode: Int, fileMode: Int)]>([])
            var staging = app.uploadStaging
            staging.openWriter = { url in
                let writer = try FileUploadWriter(url: url)
                seen.withLock {
                    $0.append((url.deletingLastPathComponent().path, Self.mode(url.deletingLastPathComponent()), Self.mode(url)))
                }
                return writer
            }
            app.uploadStaging = staging
            var body = MultipartBody()
            body.field("prompt", "a hat")
            body.file("image", filename: "a.png", try ImageProcessing.synthesize(width: 64, height: 64, format: .png, seed: 1))
            let created = try await Self.post(app, body)
            #expect(created.status == .accepted, "\(created.json)")
            let staged = try #require(seen.withLock { $0.first })
            #expect(staged.folder.hasPrefix(app.atelier.config.dataDirectory + "/uploads/"))
            #expect(staged.folderMode == 0o700)
            #expect(Self.mode(URL(fileURLWithPath: app.atelier.config.dataDirectory + "/uploads")) == 0o700)
            #expect(staged.fileMode == 0o600)
            #expect(try Self.leftovers(app).isEmpty)
        }
    }

    @Test func aWriteErrorIsA507AndLeavesNothingBehind() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            var staging = app.uploadStaging
            staging.openWriter = { url in try FullDiskWriter(url: url, room: 100_000) }
            app.uploadStaging = staging
            var body = MultipartBody()
            body.field("prompt", "a hat")
            body.file("image", filename: "a.png", try ImageProcessing.synthesize(width: 64, height: 64, format: .png, seed: 1))
            body.file("mask", filename: "m.png", Data(repeating: 7, count: 300_000))
            let refused = try await Self.post(app, body)
            #expect(refused.status == .insufficientStorage)
            #expect(refused.errorCode == "insufficient_storage")
            #expect(Self.field(refused) == "mask")
            #expect(try Self.leftovers(app).isEmpty)
            #expect(try await app.count("jobs", where: "kind", is: "edit") == 0)
            // the server goes on serving
            #expect(try await app.send(.GET, "v1/status").status == .ok)
        }
    }

    @Test func aBlobStoreThatCannotWriteAJobsInputsIsA507() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), blobs: FailingBlobStore())) { app in
            var body = MultipartBody()
            body.field("prompt", "a hat")
            body.file("image", filename: "a.png", try ImageProcessing.synthesize(width: 64, height: 64, format: .png, seed: 1))
            let refused = try await Self.post(app, body)
            #expect(refused.status == .insufficientStorage)
            #expect(refused.errorCode == "insufficient_storage")
            #expect(!(refused.json["error"].map { "\($0)" } ?? "").contains("/"), "no server path in the message")
            #expect(try await app.count("jobs", where: "kind", is: "edit") == 0)
        }
    }

    @Test func rateLimitsAreCheckedBeforeAnyUploadedImageIsDecoded() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("a@example.com")
            a.user.imagesPerMinute = 1
            try await a.user.update(on: app.db)
            var body = MultipartBody()
            body.field("prompt", "two hats")
            body.field("n", "2")
            body.file("image", filename: "a.png", BadImages.text)  // would be a 400 if it were decoded first
            let refused = try await app.send(.POST, "v1/edit", headers: a.bearer.merging(body.headers), body: body.buffer)
            #expect(refused.status == .tooManyRequests, "\(refused.json)")
        }
    }

    static func mode(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions]) as? Int ?? -1) & 0o777
    }

    /// Upload folders still present under DATA_DIR/uploads.
    static func leftovers(_ app: Application) throws -> [String] {
        let root = app.atelier.config.dataDirectory + "/uploads"
        guard FileManager.default.fileExists(atPath: root) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: root)
    }
}

/// A part writer on a disk with `room` bytes left: past it, writes fail with ENOSPC like a full filesystem.
final class FullDiskWriter: UploadPartWriter {
    private let file: FileUploadWriter
    private var room: Int
    private let path: String

    init(url: URL, room: Int) throws {
        file = try FileUploadWriter(url: url)
        self.room = room
        path = url.path
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count <= room else { throw UploadWriteError(code: ENOSPC, path: path) }
        room -= bytes.count
        try file.write(bytes)
    }

    func close() throws { try file.close() }
}

/// A blob store whose writes fail (a full or unreachable disk); reads find nothing.
struct FailingBlobStore: BlobStore {
    func put(_ data: Data, at key: BlobKey) async throws {
        throw BlobStoreError.io("/srv/data/blobs/\(key.value): No space left on device")
    }
    func get(_ key: BlobKey) async throws -> Data { throw BlobStoreError.notFound(key.value) }
    func delete(_ key: BlobKey) async throws {}
    func exists(_ key: BlobKey) async throws -> Bool { false }
}
