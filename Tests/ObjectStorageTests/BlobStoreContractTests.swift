import AsyncHTTPClient
import AtelierCore
import Foundation
import ObjectStorage
import Testing

/// What every BlobStore promises, checked against local disk always and against an S3-compatible server when
/// `TEST_S3_URL` is set (the test command starts moto's S3 server for it).
@Suite struct BlobStoreContractTests {
    static var s3URL: String? { ProcessInfo.processInfo.environment["TEST_S3_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    static func withStores(_ body: (any BlobStore) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try await body(try LocalDiskBlobStore(root: root))
        guard let url = s3URL else { return }
        let store = S3BlobStore(
            configuration: S3Configuration(
                endpoint: url, bucket: "atelier-test", region: "us-east-1", accessKeyID: "test", secretAccessKey: "test",
                prefix: "run-\(UUID().uuidString.prefix(8).lowercased())/"),
            client: HTTPClient.shared)
        try await store.createBucketIfNeeded()
        try await body(store)
    }

    @Test func putGetReplaceDeleteExists() async throws {
        try await Self.withStores { store in
            let key = try #require(BlobKey("jobs/abc/a1/output-0.png"))
            #expect(try await store.exists(key) == false, "\(type(of: store))")
            await #expect(throws: BlobStoreError.notFound(key.value)) { try await store.get(key) }
            try await store.put(Data("first".utf8), at: key)
            let image = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            try await store.put(image, at: key)
            #expect(try await store.get(key) == image)
            #expect(try await store.exists(key))
            try await store.delete(key)
            try await store.delete(key)  // deleting a missing object is fine
            #expect(try await store.exists(key) == false)
        }
    }

    @Test func concurrentWritersLeaveOneWholeVersion() async throws {
        try await Self.withStores { store in
            let key = try #require(BlobKey("race/object.bin"))
            let versions = (0..<6).map { Data(repeating: UInt8($0), count: 128 << 10) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for version in versions { group.addTask { try await store.put(version, at: key) } }
                try await group.waitForAll()
            }
            #expect(versions.contains(try await store.get(key)))
        }
    }

    @Test(.enabled(if: s3URL != nil, "needs TEST_S3_URL (an S3-compatible server)"))
    func aWrongBucketIsReportedWithWhatToCheck() async throws {
        let store = S3BlobStore(
            configuration: S3Configuration(
                endpoint: try #require(Self.s3URL), bucket: "no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())",
                region: "us-east-1", accessKeyID: "test", secretAccessKey: "test"),
            client: HTTPClient.shared)
        do {
            try await store.put(Data("x".utf8), at: try #require(BlobKey("a.png")))
            Issue.record("a PUT into a missing bucket must fail")
        } catch let error as BlobStoreError {
            guard case .io(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("NoSuchBucket") && message.contains("S3_BUCKET"), "\(message)")
        }
    }
}
