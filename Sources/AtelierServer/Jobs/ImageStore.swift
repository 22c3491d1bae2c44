import AtelierCore
import Fluent
import Foundation
import ImageProcessing

/// Writes image bytes to the blob store and describes them as `ImageRecord`s (not yet saved).
struct ImageStore: Sendable {
    let database: any Database
    let blobs: any BlobStore
    let clock: AtelierClock

    /// Stores `data` (and its WebP thumbnail) under keys made from the job, attempt, role and index.
    /// `thumbnail` may be given when the caller already made it (uploads are thumbnailed while being checked).
    func store(
        _ data: Data, job: UUID, owner: String, role: ImageRecord.Role, index: Int, attempt: Int, thumbnail: Data? = nil
    ) async throws -> ImageRecord {
        let info = try ImageProcessing.probe(data)
        let thumb = try thumbnail ?? ImageProcessing.thumbnail(data)
        let base = "jobs/\(job.uuidString.lowercased())/a\(attempt)/\(role.rawValue)-\(index)"
        let key = try Self.key("\(base).\(info.format.rawValue)")
        let thumbnailKey = try Self.key("\(base).thumb.webp")
        try await blobs.put(data, at: key)
        do { try await blobs.put(thumb, at: thumbnailKey) } catch {
            try? await blobs.delete(key)
            throw error
        }
        return ImageRecord(
            jobID: job, owner: owner, role: role, index: index, blobKey: key.value, thumbnailKey: thumbnailKey.value,
            format: info.format.rawValue, width: info.width, height: info.height, bytes: data.count, now: clock.now())
    }

    func data(of image: ImageRecord) async throws -> Data {
        try await blobs.get(try Self.key(image.blobKey))
    }

    /// Removes an image's blobs; missing ones are fine.
    func deleteBlobs(of image: ImageRecord) async {
        for key in [image.blobKey, image.thumbnailKey].compactMap({ $0 }) {
            if let key = BlobKey(key) { try? await blobs.delete(key) }
        }
    }

    static func key(_ text: String) throws -> BlobKey {
        guard let key = BlobKey(text) else { throw BlobStoreError.io("invalid blob key \(text)") }
        return key
    }
}
