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
    func store(
        _ data: Data, job: UUID, owner: String, role: ImageRecord.Role, index: Int, attempt: Int, thumbnail: Bool = true
    ) async throws -> ImageRecord {
        let info = try ImageProcessing.probe(data)
        let base = "jobs/\(job.uuidString.lowercased())/a\(attempt)/\(role.rawValue)-\(index)"
        let key = try Self.key("\(base).\(info.format.rawValue)")
        try await blobs.put(data, at: key)
        var thumbnailKey: String?
        if thumbnail {
            let thumb = try ImageProcessing.thumbnail(data)
            let tkey = try Self.key("\(base).thumb.webp")
            try await blobs.put(thumb, at: tkey)
            thumbnailKey = tkey.value
        }
        return ImageRecord(
            jobID: job, owner: owner, role: role, index: index, blobKey: key.value, thumbnailKey: thumbnailKey,
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
