import AtelierCore
import Foundation

/// Copies image blobs between a blob store and a backup's `blobs/` folder (same relative keys), file by file.
struct BlobCopier {
    let blobs: any BlobStore

    struct Exported { var files = 0, bytes = 0, missing: [String] = [] }

    /// Copies each key into `folder`. A thumbnail not made yet (`optional`) is skipped: it is remade on demand.
    func export(_ keys: [(key: String, optional: Bool)], into folder: URL) async throws -> Exported {
        var result = Exported()
        for (text, optional) in keys {
            guard let key = BlobKey(text) else { continue }
            let destination = folder.appendingPathComponent(key.value)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            do {
                if let file = blobs.localFile(key) {
                    try FileManager.default.copyItem(at: file, to: destination)
                } else {
                    try await blobs.get(key).write(to: destination)
                }
            } catch {
                // Not there (any more): a thumbnail not made yet, or an image deleted since the snapshot.
                guard try await !blobs.exists(key) else { throw error }
                if !optional { result.missing.append(key.value) }
                continue
            }
            result.files += 1
            result.bytes += (try? destination.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        }
        return result
    }

    /// Puts every file under `folder` into the store under its relative path; returns how many.
    func restore(from folder: URL) async throws -> Int {
        let root = folder.standardizedFileURL.path + "/"
        var count = 0
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return 0 }
        while let url = walker.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.count))
            guard let key = BlobKey(relative) else { throw OperatorError("\(url.path) is not an image file a backup holds") }
            try await blobs.put(try Data(contentsOf: url), at: key)
            count += 1
        }
        return count
    }
}
