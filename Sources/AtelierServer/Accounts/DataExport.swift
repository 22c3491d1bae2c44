import AtelierCore
import Fluent
import Foundation
import Vapor

/// "Export my data": a ZIP with every stored image of the owner under `images/`, `jobs.json` (the jobs as the
/// API shows them), `batches.json` (the batches as the API shows them: template, options, sweep, counts, estimate
/// and cost) and `account.json` (the account and its API keys, without secrets).
struct DataExport {
    let req: Request

    /// The archive, streamed (`ArchiveResponse`): the JSON files first, then each image as it is read.
    func response(owner: String, user: UserRecord?) async throws -> Response {
        var entries: [ArchiveResponse.Entry] = []
        func add(_ name: String, _ data: Data) { entries.append(.init(name: name, bytes: data.count) { data }) }
        let jobs = try await JobRecord.query(on: req.db).filter(\.$owner == owner).sort(\.$createdAt).all()
        let dtos = try await JobPresenter(req: req).dtos(jobs)
        add("jobs.json", try JSONEncoder.api.encode(dtos))
        add("batches.json", try JSONEncoder.api.encode(try await batches(owner: owner)))
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

    /// The owner's batches, oldest first, each with its progress (read a few hundred batches at a time).
    private func batches(owner: String) async throws -> [BatchDTO] {
        let records = try await BatchRecord.query(on: req.db).filter(\.$owner == owner).sort(\.$createdAt).all()
        var dtos: [BatchDTO] = []
        for start in stride(from: 0, to: records.count, by: 500) {
            let slice = records[start..<min(start + 500, records.count)]
            let progress = try await BatchProgress.load(slice.compactMap(\.id), on: req.db)
            dtos += slice.map { BatchDTO($0, progress: progress[$0.id!] ?? BatchProgress()) }
        }
        return dtos
    }
}
