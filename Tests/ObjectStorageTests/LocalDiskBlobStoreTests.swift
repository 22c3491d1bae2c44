import AtelierCore
import Foundation
import ObjectStorage
import Testing

/// What only the local-disk store promises; the behaviour every store shares is in `BlobStoreContractTests`.
@Suite struct LocalDiskBlobStoreTests {
    func files(under root: URL) -> [String] {
        (FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []).sorted()
    }

    @Test func writesLeaveNoTemporaryFileAndLocalFileNamesTheObject() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = try LocalDiskBlobStore(root: root)
        let key = try #require(BlobKey("jobs/a/out-0.png"))
        #expect(store.localFile(key) == nil)
        try await store.put(Data("first".utf8), at: key)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for version in 0..<6 { group.addTask { try await store.put(Data(repeating: UInt8(version), count: 64 << 10), at: key) } }
            try await group.waitForAll()
        }
        let file = try #require(store.localFile(key))
        #expect(try Data(contentsOf: file) == (try await store.get(key)))
        #expect(files(under: root) == ["jobs", "jobs/a", "jobs/a/out-0.png"], "no temporary file is left behind")
        try await store.delete(key)
        #expect(store.localFile(key) == nil)
    }

    @Test func keysCannotEscapeTheRoot() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "A.png", "a b", "", "./x"] {
            #expect(BlobKey(bad) == nil, "\(bad)")
        }
    }
}
