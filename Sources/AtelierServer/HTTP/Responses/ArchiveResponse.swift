import AtelierCore
import Foundation
import Vapor

/// A ZIP download streamed to the client entry by entry (`ZipArchiveWriter`): at most one entry's bytes are in
/// memory. The stored sizes are summed first, so an archive past `MAX_ARCHIVE_MB` is refused with 413 before
/// anything is sent (one large upload referenced by many jobs counts every time).
struct ArchiveResponse {
    /// One file in the archive: its name, its size as stored, and how to load it (nil: skip, e.g. a missing blob).
    struct Entry: Sendable {
        var name: String
        var bytes: Int
        var load: @Sendable () async throws -> Data?
    }

    let req: Request

    func response(_ entries: [Entry], filename: String) throws -> Response {
        let limit = req.atelier.config.access.maxArchiveBytes
        let total = entries.reduce(0) { $0 + $1.bytes }
        guard total <= limit else {
            throw APIError(
                status: .payloadTooLarge, code: "archive_too_large",
                message:
                    "The archive would hold \(total / 1_048_576) MB; at most \(limit / 1_048_576) MB can be downloaded at once. Ask for fewer images."
            )
        }
        let logger = req.logger
        let response = Response(status: .ok)
        response.headers.contentType = HTTPMediaType(type: "application", subType: "zip")
        response.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(filename)\"")
        response.body = .init(asyncStream: { writer in
            var zip = ZipArchiveWriter()
            do {
                for entry in entries {
                    guard let data = try await entry.load() else { continue }
                    try await writer.writeBuffer(ByteBuffer(data: zip.add(name: entry.name, data: data)))
                }
                try await writer.writeBuffer(ByteBuffer(data: zip.finish()))
                try await writer.write(.end)
            } catch {
                logger.warning("archive download ended early", metadata: ["error": "\(error)"])
                try? await writer.write(.error(error))
            }
        })
        return response
    }
}
