import AtelierCore
import Foundation

/// Blobs as files under a root folder. Writes go to a temporary file in the same folder, are flushed,
/// then renamed over the final name, so a crash never leaves a half-written object.
public struct LocalDiskBlobStore: BlobStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// Off the cooperative threads (`BlockingFileWork`): the write and its fsync block.
    public func put(_ data: Data, at key: BlobKey) async throws {
        let url = fileURL(key)
        try await BlockingFileWork.run { try Self.write(data, to: url, key: key) }
    }

    private static func write(_ data: Data, to url: URL, key: BlobKey) throws {
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let temp = folder.appendingPathComponent(".tmp-\(UUID().uuidString)")
            // Written (large blobs around the page cache) and fsynced; a failure leaves no temp file.
            do { try DirectFileWrite.write(data, toNewFile: temp.path) } catch {
                try? FileManager.default.removeItem(at: temp)
                throw error
            }
            if rename(temp.path, url.path) != 0 {
                try? FileManager.default.removeItem(at: temp)
                throw BlobStoreError.io("cannot move blob into place at \(url.path) (errno \(errno))")
            }
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw BlobStoreError.io("writing \(key): \(error.localizedDescription)")
        }
    }

    public func get(_ key: BlobKey) async throws -> Data {
        do { return try Data(contentsOf: fileURL(key)) } catch { throw BlobStoreError.notFound(key.value) }
    }

    public func delete(_ key: BlobKey) async throws {
        let url = fileURL(key)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        try FileManager.default.removeItem(at: url)
    }

    public func exists(_ key: BlobKey) async throws -> Bool {
        FileManager.default.fileExists(atPath: fileURL(key).path)
    }

    public func localFile(_ key: BlobKey) -> URL? {
        let url = fileURL(key)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    private func fileURL(_ key: BlobKey) -> URL { root.appendingPathComponent(key.value) }
}
