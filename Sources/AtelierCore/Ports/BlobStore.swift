import Foundation

/// A key the server makes (never a user-supplied name): lowercase letters, digits, '-', '_', '.' and '/'.
public struct BlobKey: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public init?(_ value: String) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_./")
        guard !value.isEmpty, value.count <= 200, value.allSatisfy(allowed.contains),
            !value.hasPrefix("/"), !value.split(separator: "/").contains(where: { $0 == ".." || $0 == "." })
        else { return nil }
        self.value = value
    }

    public var description: String { value }
}

public enum BlobStoreError: Error, Sendable, Equatable {
    case notFound(String)
    case io(String)
}

/// Where image bytes live: local disk, S3-compatible storage, or memory in tests.
public protocol BlobStore: Sendable {
    /// Writes atomically: readers see the old object or the whole new one, never a part.
    func put(_ data: Data, at key: BlobKey) async throws
    func get(_ key: BlobKey) async throws -> Data
    func delete(_ key: BlobKey) async throws
    func exists(_ key: BlobKey) async throws -> Bool
    /// The local file holding the object, when this store keeps objects as files (image processing then streams
    /// from disk instead of loading the object); nil otherwise.
    func localFile(_ key: BlobKey) -> URL?
}

extension BlobStore {
    public func localFile(_ key: BlobKey) -> URL? { nil }
}
