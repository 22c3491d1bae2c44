import AtelierCore
import Fluent
import Foundation

/// Stores each streamed partial preview as it arrives and publishes `job.partial_image`.
/// A partial of the same index from an earlier attempt is replaced, never duplicated.
struct PartialImageRecorder: Sendable {
    let context: WorkerContext
    let job: JobRecord

    @Sendable func record(_ partial: ProviderPartialImage) async {
        do {
            let jobID = try job.requireID()
            let attempt = try await JobRecord.find(jobID, on: context.database)?.attempts ?? job.attempts
            let image = try await context.images.store(
                partial.data, job: jobID, owner: job.owner, role: .partial, index: partial.index, attempt: attempt,
                deferThumbnail: true)
            let stale = try await ImageRecord.query(on: context.database)
                .filter(\.$job.$id == jobID).filter(\.$role == "partial").filter(\.$index == partial.index).all()
            try await image.create(on: context.database)
            for old in stale {
                try await old.delete(on: context.database)
                if old.blobKey != image.blobKey { await context.images.deleteBlobs(of: old) }
            }
            try await context.publisher.publish("job.partial_image", jobID: jobID, image: image)
        } catch {
            context.logger.warning("could not store a partial preview", metadata: ["error": "\(error)"])
        }
    }
}
