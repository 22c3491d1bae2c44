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

    func delete(_ job: JobRecord) async throws {
        let jobID = try job.requireID()
        let images = try await job.$images.get(reload: true, on: database)
        try await database.transaction { db in
            try await ImageRecord.query(on: db).filter(\.$job.$id == jobID).delete()
            try await JobEventRecord.query(on: db).filter(\.$jobID == jobID).delete()
            try await JobRecord.query(on: db).filter(\.$id == jobID).delete()
        }
        let store = ImageStore(database: database, blobs: blobs, clock: clock)
        for image in images {
            let shared = try await ImageRecord.query(on: database).filter(\.$blobKey == image.blobKey).count()
            if shared == 0 { await store.deleteBlobs(of: image) }
        }
    }
}
