import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

extension Application {
    /// Every job of a batch, in batch order, read through `GET /v1/batches/{id}/jobs` page by page.
    func batchJobs(_ id: String, headers: HTTPHeaders = [:], pageSize: Int = 20) async throws -> [[String: Any]] {
        var jobs: [[String: Any]] = []
        var cursor: String?
        repeat {
            let page = try await send(
                .GET, "v1/batches/\(id)/jobs?limit=\(pageSize)" + (cursor.map { "&cursor=\($0)" } ?? ""), headers: headers)
            #expect(page.status == .ok, "\(page.json)")
            jobs += page.json["data"] as? [[String: Any]] ?? []
            cursor = page.json["next_cursor"] as? String
        } while cursor != nil
        return jobs
    }

    /// Rows in `batches` and in `jobs`: what a refused batch must leave untouched.
    func batchAndJobCounts() async throws -> (batches: Int, jobs: Int) {
        (try await BatchRecord.query(on: db).count(), try await JobRecord.query(on: db).count())
    }
}

/// CSV text with a header and `rows` data rows: `subject,style`.
func batchCSV(rows: Int) -> String {
    var text = "subject,style\r\n"
    for index in 1...rows { text += "lighthouse \(index),watercolour\r\n" }
    return text
}
