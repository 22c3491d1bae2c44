import AtelierCore
import Fluent
import Vapor

/// Removes a finished job, its events and image rows, then the blobs no other image still uses.
struct JobDeleter: Sendable {
    let database: any Database
    let blobs: any BlobStore
    let clock: AtelierClock

    init(app: Application) {
        self.init(database: app.db, blobs: app.atelier.blobs, clock: app.atelier.clock)
    }

    init(database: any Database, blobs: any BlobStore, clock: AtelierClock) {
        self.database = database
        self.blobs = blobs
        self.clock = clock
    }

    /// Deletes a finished job (`JobLifecycle.delete`); false when it is not finished.
    @discardableResult
    func delete(_ job: JobRecord) async throws -> Bool {
        guard let images = try await JobLifecycle.delete(try job.requireID(), on: database) else { return false }
        let store = ImageStore(database: database, blobs: blobs, clock: clock)
        for image in images {
            let shared = try await ImageRecord.query(on: database).filter(\.$blobKey == image.blobKey).count()
            if shared == 0 { await store.deleteBlobs(of: image) }
        }
        return true
    }
}
