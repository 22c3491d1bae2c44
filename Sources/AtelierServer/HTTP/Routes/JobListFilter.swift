import AtelierCore
import Fluent
import FluentSQL
import SQLKit
import Foundation
import Vapor

/// Query parameters of `GET /v1/jobs`: `limit`, `cursor`, `q`, `model`, `status`, `kind`, `favorite`, `since`, `until`, `batch`.
struct JobListFilter {
    var limit: Int
    var cursor: (createdAt: Double, id: UUID)?
    var words: [String]
    var model: String?
    var status: JobStatus?
    var kind: JobKind?
    var favorite: Bool?
    var since: Double?
    var until: Double?
    /// Only the jobs of this batch.
    var batch: UUID?

    init(req: Request) throws {
        limit = min(max(req.query[Int.self, at: "limit"] ?? 20, 1), 100)
        if let text = req.query[String.self, at: "cursor"] {
            guard let decoded = Self.decodeCursor(text) else {
                throw APIError.invalid("cursor", "The cursor is not one this server returned; start without it.")
            }
            cursor = decoded
        }
        words = (req.query[String.self, at: "q"] ?? "").lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
        model = req.query[String.self, at: "model"].flatMap { $0.isEmpty ? nil : $0 }
        if let text = req.query[String.self, at: "status"], !text.isEmpty {
            guard let value = JobStatus(rawValue: text) else {
                throw APIError.invalid("status", "status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            status = value
        }
        if let text = req.query[String.self, at: "kind"], !text.isEmpty {
            guard let value = JobKind(rawValue: text) else {
                throw APIError.invalid("kind", "kind must be one of \(JobKind.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            kind = value
        }
        if let text = req.query[String.self, at: "favorite"]?.lowercased(), !text.isEmpty {
            guard let value = ["true": true, "1": true, "false": false, "0": false][text] else {
                throw APIError.invalid("favorite", "favorite must be true or false.")
            }
            favorite = value
        }
        if let text = req.query[String.self, at: "batch"], !text.isEmpty {
            guard let id = UUID(uuidString: text) else { throw APIError.invalid("batch", "batch must be a batch id.") }
            batch = id
        }
        since = try Self.date(req, "since")
        until = try Self.date(req, "until")
    }

    func apply(to query: QueryBuilder<JobRecord>, dialect: String) throws -> QueryBuilder<JobRecord> {
        var query = query
        for word in words {
            // Backslash escapes LIKE's wildcards and itself, so `%`, `_` and `\` match literally on both databases.
            let escaped = word.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            let operation = dialect == "postgresql" ? "ILIKE" : "LIKE"
            query = query.filter(
                .sql(embed: "\(ident: JobRecord.schema).\(ident: "prompt") \(unsafeRaw: operation) \(bind: "%\(escaped)%") ESCAPE '\\'"))
        }
        if let model { query = query.filter(\.$model == model) }
        if let status { query = query.filter(\.$status == status.rawValue) }
        if let kind { query = query.filter(\.$kind == kind.rawValue) }
        if let favorite { query = query.filter(\.$favorite == favorite) }
        if let batch { query = query.filter(\.$batchID == batch) }
        if let since { query = query.filter(\.$createdAt >= since) }
        if let until { query = query.filter(\.$createdAt < until) }
        if let cursor {
            query = query.group(.or) { group in
                group.filter(\.$createdAt < cursor.createdAt)
                group.group(.and) { same in
                    same.filter(\.$createdAt == cursor.createdAt).filter(\.$id < cursor.id)
                }
            }
        }
        return query
    }

    static func cursor(for job: JobRecord) -> String {
        let text = "\(job.createdAt.bitPattern)|\((job.id ?? UUID()).uuidString)"
        return Data(text.utf8).base64EncodedString()
    }

    static func decodeCursor(_ text: String) -> (Double, UUID)? {
        guard let data = Data(base64Encoded: text) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|")
        guard parts.count == 2, let bits = UInt64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        return (Double(bitPattern: bits), id)
    }

    /// Accepts ISO-8601 dates or plain `YYYY-MM-DD`.
    private static func date(_ req: Request, _ name: String) throws -> Double? {
        guard let text = req.query[String.self, at: name], !text.isEmpty else { return nil }
        let full = ISO8601DateFormatter()
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        guard let date = full.date(from: text) ?? day.date(from: text) else {
            throw APIError.invalid(name, "\(name) must be an ISO-8601 date such as 2026-11-26 or 2026-11-26T10:00:00Z.")
        }
        return date.timeIntervalSince1970
    }
}
