import Fluent
import Foundation
import SQLKit

/// A stored image: an output, an input, a mask, a partial preview, the raw upstream output or a changes map.
public final class ImageRecord: Model, @unchecked Sendable {
    public static let schema = "images"

    public enum Role: String, Codable, Sendable {
        case output, input, mask, markup, partial, raw, changes
    }

    @ID(key: .id) public var id: UUID?
    @Parent(key: "job_id") public var job: JobRecord
    @Field(key: "owner") public var owner: String
    @Field(key: "role") public var role: String
    @Field(key: "index") public var index: Int
    @Field(key: "blob_key") public var blobKey: String
    @OptionalField(key: "thumbnail_key") public var thumbnailKey: String?
    @Field(key: "format") public var format: String
    @Field(key: "width") public var width: Int
    @Field(key: "height") public var height: Int
    @Field(key: "bytes") public var bytes: Int
    @Field(key: "created_at") public var createdAt: Double

    public init() {}

    /// The typed role; an unknown value in the row is a `StoredValueError` naming it, never a default.
    var imageRole: Role {
        get throws {
            guard let role = Role(rawValue: role) else {
                throw StoredValueError(table: "images", column: "role", rowID: id, value: role)
            }
            return role
        }
    }

    /// Stores the row in one raw statement (Fluent's `create` reflects over the model's fields on every call) and
    /// leaves the model saved, as `create` does.
    func insert(on database: any Database) async throws {
        let id = self.id ?? UUID()
        try await database.sql.raw(
            """
            INSERT INTO images (id, job_id, owner, role, "index", blob_key, thumbnail_key, format, width, height, bytes, created_at)
            VALUES (\(bind: id), \(bind: $job.id), \(bind: owner), \(bind: role), \(bind: index), \(bind: blobKey), \(bind: thumbnailKey),
                \(bind: format), \(bind: width), \(bind: height), \(bind: bytes), \(bind: createdAt))
            """
        ).run()
        self.id = id
        $id.exists = true
    }

    public init(
        id: UUID = UUID(), jobID: UUID, owner: String, role: Role, index: Int, blobKey: String, thumbnailKey: String?,
        format: String, width: Int, height: Int, bytes: Int, now: Double
    ) {
        self.id = id
        self.$job.id = jobID
        self.owner = owner
        self.role = role.rawValue
        self.index = index
        self.blobKey = blobKey
        self.thumbnailKey = thumbnailKey
        self.format = format
        self.width = width
        self.height = height
        self.bytes = bytes
        self.createdAt = now
    }
}
