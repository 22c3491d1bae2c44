import Foundation

/// Blobs in memory: for tests and throwaway runs.
public actor InMemoryBlobStore: BlobStore {
    private var objects: [BlobKey: Data] = [:]

    public init() {}

    public func put(_ data: Data, at key: BlobKey) async throws { objects[key] = data }

    public func get(_ key: BlobKey) async throws -> Data {
        guard let data = objects[key] else { throw BlobStoreError.notFound(key.value) }
        return data
    }

    public func delete(_ key: BlobKey) async throws { objects[key] = nil }

    public func exists(_ key: BlobKey) async throws -> Bool { objects[key] != nil }

    public var keys: [BlobKey] { Array(objects.keys) }
}
