import AtelierCore
import Foundation
import ObjectStorage
import Testing

@Suite struct LocalDiskBlobStoreTests {
    func makeStore() throws -> (LocalDiskBlobStore, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)")
        return (try LocalDiskBlobStore(root: root), root)
    }

    func files(under root: URL) -> [String] {
        (FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []).sorted()
    }

    @Test func putGetReplaceDelete() async throws {
        let (store, root) = try makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        let key = try #require(BlobKey("jobs/a/out-0.png"))
        #expect(try await store.exists(key) == false)
        #expect(store.localFile(key) == nil)
        try await store.put(Data("first".utf8), at: key)
        try await store.put(Data("second".utf8), at: key)
        #expect(try await store.get(key) == Data("second".utf8))
        #expect(try await store.exists(key))
        let file = try #require(store.localFile(key))
        #expect(try Data(contentsOf: file) == Data("second".utf8))
        #expect(files(under: root) == ["jobs", "jobs/a", "jobs/a/out-0.png"], "no temporary file is left behind")
        try await store.delete(key)
        try await store.delete(key)  // deleting a missing blob is fine
        #expect(try await store.exists(key) == false)
        await #expect(throws: BlobStoreError.notFound("jobs/a/out-0.png")) { try await store.get(key) }
    }

    @Test func concurrentWritersNeverLeaveAMixedObject() async throws {
        let (store, root) = try makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        let key = try #require(BlobKey("race.bin"))
        let versions = (0..<8).map { Data(repeating: UInt8($0), count: 256 << 10) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for version in versions { group.addTask { try await store.put(version, at: key) } }
            try await group.waitForAll()
        }
        #expect(versions.contains(try await store.get(key)), "the object is one whole version")
        #expect(files(under: root) == ["race.bin"])
    }

    @Test func keysCannotEscapeTheRoot() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "A.png", "a b", "", "./x"] {
            #expect(BlobKey(bad) == nil, "\(bad)")
        }
    }
}
