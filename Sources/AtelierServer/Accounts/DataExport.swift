import AtelierCore
import Fluent
import Foundation
import Vapor

/// "Export my data": a ZIP with every stored image of the owner under `images/`, `jobs.json` (the jobs as the
/// API shows them) and `account.json` (the account and its API keys, without secrets).
struct DataExport {
    let req: Request

    /// The archive, streamed (`ArchiveResponse`): the JSON files first, then each image as it is read.
    func response(owner: String, user: UserRecord?) async throws -> Response {
        var entries: [ArchiveResponse.Entry] = []
        func add(_ name: String, _ data: Data) { entries.append(.init(name: name, bytes: data.count) { data }) }
        let jobs = try await JobRecord.query(on: req.db).filter(\.$owner == owner).sort(\.$createdAt).all()
        let dtos = try await JobPresenter(req: req).dtos(jobs)
        add("jobs.json", try JSONEncoder.api.encode(dtos))
        if let user {
            struct Account: Encodable {
                var user: UserDTO
                var keys: [APIKeyDTO]
            }
            let keys = try await APIKeyRecord.query(on: req.db).filter(\.$user.$id == user.requireID()).all()
            add("account.json", try JSONEncoder.api.encode(Account(user: UserDTO(user), keys: keys.map { APIKeyDTO($0) })))
        }
        let images = try await ImageRecord.query(on: req.db).filter(\.$owner == owner).sort(\.$createdAt).all()
        let blobs = req.atelier.blobs
        for image in images {
            guard let key = BlobKey(image.blobKey) else { continue }
            entries.append(.init(name: "images/" + ImageController.filename(image), bytes: image.bytes) { try? await blobs.get(key) })
        }
        return try ArchiveResponse(req: req).response(entries, filename: "atelier-export.zip")
    }
}
