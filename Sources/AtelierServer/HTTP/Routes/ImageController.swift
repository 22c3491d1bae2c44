import AtelierCore
import Fluent
import Vapor

/// `GET /v1/images/{id}` (bytes with ETag, immutable caching and Range; `?download=1` for an attachment; with
/// `S3_PRESIGN=true` a redirect to the bucket instead), `/thumbnail`, and `POST /v1/images/zip`.
struct ImageController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let images = routes.grouped("images")
        images.get(":imageID", use: original)
        images.get(":imageID", "thumbnail", use: thumbnail)
        images.on(.POST, "zip", body: .collect(maxSize: "64kb"), use: zip)
    }

    @Sendable func original(req: Request) async throws -> Response {
        let image = try await ownedImage(req)
        let contentType = Self.mimeType(image.format)
        if let redirect = PresignedImageRedirect.response(req, key: image.blobKey, contentType: contentType, filename: Self.filename(image))
        {
            return redirect
        }
        return try await serve(
            req: req, key: image.blobKey, etag: image.id?.uuidString.lowercased() ?? "",
            contentType: contentType, filename: Self.filename(image))
    }

    @Sendable func thumbnail(req: Request) async throws -> Response {
        let image = try await ownedImage(req)
        guard let key = image.thumbnailKey else { throw APIError.notFound("thumbnail for this image") }
        let store = ImageStore(database: req.db, blobs: req.atelier.blobs, clock: req.atelier.clock)
        try await store.ensureThumbnail(of: image)
        if let redirect = PresignedImageRedirect.response(req, key: key, contentType: "image/webp", filename: nil) { return redirect }
        return try await serve(
            req: req, key: key, etag: "t-" + (image.id?.uuidString.lowercased() ?? ""),
            contentType: "image/webp", filename: nil)
    }

    @Sendable func zip(req: Request) async throws -> Response {
        struct Body: Content {
            var jobIDs: [UUID]?
            var imageIDs: [UUID]?
            enum CodingKeys: String, CodingKey {
                case jobIDs = "job_ids", imageIDs = "image_ids"
            }
        }
        let body = try req.content.decode(Body.self)
        let jobIDs = body.jobIDs ?? []
        let imageIDs = body.imageIDs ?? []
        guard !(jobIDs.isEmpty && imageIDs.isEmpty), jobIDs.count + imageIDs.count <= 500 else {
            throw APIError.invalid("job_ids", "Give 1…500 job_ids or image_ids to download.")
        }
        var images: [ImageRecord] = []
        if !jobIDs.isEmpty {
            images += try await ImageRecord.query(on: req.db).filter(\.$owner == req.owner)
                .filter(\.$job.$id ~~ jobIDs).filter(\.$role == ImageRecord.Role.output.rawValue).all()
        }
        if !imageIDs.isEmpty {
            images += try await ImageRecord.query(on: req.db).filter(\.$owner == req.owner).filter(\.$id ~~ imageIDs).all()
        }
        guard !images.isEmpty else { throw APIError.notFound("images for those ids") }
        let blobs = req.atelier.blobs
        let entries = images.sorted(by: { ($0.createdAt, $0.index) < ($1.createdAt, $1.index) }).compactMap { image in
            BlobKey(image.blobKey).map { key in
                ArchiveResponse.Entry(name: Self.filename(image), bytes: image.bytes) { try await blobs.get(key) }
            }
        }
        return try ArchiveResponse(req: req).response(entries, filename: "atelier-images.zip")
    }

    private func ownedImage(_ req: Request) async throws -> ImageRecord {
        guard let id = req.parameters.get("imageID", as: UUID.self),
            let image = try await ImageRecord.find(id, on: req.db), image.owner == req.owner || req.caller?.isAdmin == true
        else { throw APIError.notFound("image") }
        return image
    }

    private func serve(req: Request, key: String, etag: String, contentType: String, filename: String?) async throws -> Response {
        let quoted = "\"\(etag)\""
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .eTag, value: quoted)
        headers.replaceOrAdd(name: .cacheControl, value: "private, max-age=31536000, immutable")
        headers.replaceOrAdd(name: .acceptRanges, value: "bytes")
        // Never sniffed as something else; an SVG opened on its own runs no script and reaches nothing (sandbox).
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "Content-Security-Policy", value: "sandbox; default-src 'none'; style-src 'unsafe-inline'")
        if req.headers.first(name: .ifNoneMatch) == quoted { return Response(status: .notModified, headers: headers) }
        guard let blobKey = BlobKey(key) else { throw APIError.notFound("image") }
        let data = try await req.atelier.blobs.get(blobKey)
        headers.replaceOrAdd(name: .contentType, value: contentType)
        if let filename {
            let disposition = req.query[String.self, at: "download"] == "1" ? "attachment" : "inline"
            headers.replaceOrAdd(name: .contentDisposition, value: "\(disposition); filename=\"\(filename)\"")
        }
        if let range = req.headers.first(name: .range) {
            guard let (start, end) = ByteRange.parse(range, length: data.count) else {
                headers.replaceOrAdd(name: .contentRange, value: "bytes */\(data.count)")
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            headers.replaceOrAdd(name: .contentRange, value: "bytes \(start)-\(end)/\(data.count)")
            return Response(status: .partialContent, headers: headers, body: .init(data: data.subdata(in: start..<(end + 1))))
        }
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    static func mimeType(_ format: String) -> String {
        switch format {
        case "jpeg": "image/jpeg"
        case "webp": "image/webp"
        case "gif": "image/gif"
        case "svg": "image/svg+xml"
        default: "image/png"
        }
    }

    static func filename(_ image: ImageRecord) -> String {
        "atelier-\(image.$job.id.uuidString.prefix(8).lowercased())-\(image.role)-\(image.index).\(image.format == "jpeg" ? "jpg" : image.format)"
    }
}

/// A single `bytes=` range (`a-b`, `a-`, `-n`), clamped to the body; nil when unsatisfiable.
enum ByteRange {
    static func parse(_ header: String, length: Int) -> (Int, Int)? {
        guard header.hasPrefix("bytes="), length > 0 else { return nil }
        let spec = header.dropFirst(6)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { return nil }
            return (max(0, length - suffix), length - 1)
        }
        guard let start = Int(first), start < length else { return nil }
        let end = last.isEmpty ? length - 1 : min(Int(last) ?? -1, length - 1)
        return end >= start ? (start, end) : nil
    }
}
