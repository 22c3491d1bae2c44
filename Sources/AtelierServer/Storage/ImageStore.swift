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
    /// With `deferThumbnail` the thumbnail's key is recorded but the thumbnail is made later by
    /// `ensureThumbnail` when it is first asked for (outputs: the thumbnail endpoint), off the job's path.
    func store(
        _ data: Data, job: UUID, owner: String, role: ImageRecord.Role, index: Int, attempt: Int, thumbnail: Data? = nil,
        deferThumbnail: Bool = false
    ) async throws -> ImageRecord {
        let info = try ImageProcessing.probeOutput(data)
        let base = "jobs/\(job.uuidString.lowercased())/a\(attempt)/\(role.rawValue)-\(index)"
        let key = try Self.key("\(base).\(info.format)")
        let thumbnailKey = try Self.key("\(base).thumb.webp")
        let thumb = deferThumbnail ? nil : try thumbnail ?? ImageProcessing.outputThumbnail(data)
        try await blobs.put(data, at: key)
        if let thumb {
            do { try await blobs.put(thumb, at: thumbnailKey) } catch {
                try? await blobs.delete(key)
                throw error
            }
        }
        return ImageRecord(
            jobID: job, owner: owner, role: role, index: index, blobKey: key.value, thumbnailKey: thumbnailKey.value,
            format: info.format, width: info.width, height: info.height, bytes: data.count, now: clock.now())
    }

    /// The image's thumbnail, made and stored now if it is not there yet (same bytes whoever makes it).
    @discardableResult
    func ensureThumbnail(of image: ImageRecord) async throws -> Data {
        guard let text = image.thumbnailKey else { throw BlobStoreError.notFound("thumbnail of \(image.blobKey)") }
        let key = try Self.key(text)
        if let existing = try? await blobs.get(key) { return existing }
        let source = try Self.key(image.blobKey)
        let thumb: Data
        if let file = blobs.localFile(source) {
            thumb = try ImageProcessing.outputThumbnail(fileAt: file.path)  // rasters streamed from disk, not loaded
        } else {
            thumb = try ImageProcessing.outputThumbnail(try await blobs.get(source))
        }
        try await blobs.put(thumb, at: key)
        return thumb
    }

    /// The image as an upstream upload: its stored file when the store keeps files (the request streams it from
    /// disk), its bytes otherwise.
    func upload(of image: ImageRecord, filename: String) async throws -> ImageUpload {
        let format = ImageFormat(rawValue: image.format) ?? .png
        let key = try Self.key(image.blobKey)
        let bytes: ImageBytes
        if let file = blobs.localFile(key),
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int
        {
            bytes = .file(file, byteCount: size)
        } else {
            bytes = .data(try await blobs.get(key))
        }
        return ImageUpload(filename: "\(filename).\(format.rawValue)", contentType: format.mimeType, bytes: bytes)
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
