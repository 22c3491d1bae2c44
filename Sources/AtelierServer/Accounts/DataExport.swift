import AtelierCore
import Fluent
import Foundation
import Vapor

/// "Export my data": a ZIP with every stored image of the owner under `images/`, `jobs.json` (the jobs as the
/// API shows them) and `account.json` (the account and its API keys, without secrets).
struct DataExport {
    let req: Request

    func archive(owner: String, user: UserRecord?) async throws -> Data {
        var zip = ZipArchiveWriter()
        let jobs = try await JobRecord.query(on: req.db).filter(\.$owner == owner).sort(\.$createdAt).all()
        let dtos = try await JobPresenter(req: req).dtos(jobs)
        zip.add(name: "jobs.json", data: try JSONEncoder.api.encode(dtos))
        if let user {
            struct Account: Encodable {
                var user: UserDTO
                var keys: [APIKeyDTO]
            }
            let keys = try await APIKeyRecord.query(on: req.db).filter(\.$user.$id == user.requireID()).all()
            zip.add(name: "account.json", data: try JSONEncoder.api.encode(Account(user: UserDTO(user), keys: keys.map { APIKeyDTO($0) })))
        }
        let images = try await ImageRecord.query(on: req.db).filter(\.$owner == owner).sort(\.$createdAt).all()
        for image in images {
            guard let key = BlobKey(image.blobKey), let data = try? await req.atelier.blobs.get(key) else { continue }
            zip.add(name: "images/" + ImageController.filename(image), data: data)
        }
        return zip.finish()
    }
}
