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

    /// Large blobs are written around the page cache in aligned blocks plus a tail: the same bytes at every size
    /// around the block, buffer and threshold boundaries, from any address, and no temporary file left.
    @Test func everySizeReadsBackByteForByte() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = try LocalDiskBlobStore(root: root)
        var generator = SystemRandomNumberGenerator()
        let sizes = [0, 1, 4095, 4097, (256 << 10) - 1, 256 << 10, (256 << 10) + 1, (1 << 20) + 4097, 3_152_404]
        for (index, size) in sizes.enumerated() {
            let bytes = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let key = try #require(BlobKey("jobs/b/out-\(index).png"))
            try await store.put(bytes, at: key)
            #expect(try await store.get(key) == bytes, "\(size) bytes")
            // A slice of a larger buffer (its bytes start anywhere in memory) is written the same.
            let slice = (Data([7]) + bytes).dropFirst()
            try await store.put(slice, at: key)
            #expect(try await store.get(key) == bytes, "\(size) bytes from an unaligned slice")
            // Bytes that start on a page boundary (decoded images) are written from where they are, without a copy.
            var pointer: UnsafeMutableRawPointer?
            #expect(posix_memalign(&pointer, 4096, max(size, 1)) == 0)
            let page = try #require(pointer)
            bytes.copyBytes(to: page.assumingMemoryBound(to: UInt8.self), count: size)
            try await store.put(Data(bytesNoCopy: page, count: size, deallocator: .free), at: key)
            #expect(try await store.get(key) == bytes, "\(size) bytes from a page-aligned buffer")
        }
        #expect(files(under: root).filter { $0.contains(".tmp-") }.isEmpty, "no temporary file is left behind")
    }

    @Test func keysCannotEscapeTheRoot() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "A.png", "a b", "", "./x"] {
            #expect(BlobKey(bad) == nil, "\(bad)")
        }
    }
}
