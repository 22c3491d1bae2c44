import AtelierCore
import Fluent
import Foundation
import OpenAIImages

/// Writes an `openai_batch` batch's JSONL input file: one line per job its runner holds, in batch order,
/// `{"custom_id": job id, "method": "POST", "url": "/v1/images/generations", "body": …}` with the body the live
/// path sends for that job (`OpenAIImageProvider.fields`, without streaming: a batch line cannot stream). The jobs
/// are read a page at a time and the file is written to a temporary name and renamed, so memory stays at one page.
struct OpenAIBatchInput: Sendable {
    static let endpoint = "/v1/images/generations"
    static let page = 500
    /// OpenAI's limit on requests in one batch input file.
    static let maxLines = 50_000

    let database: any Database
    let directory: URL

    struct Written: Sendable {
        var file: URL
        var lines: Int
        var bytes: Int
    }

    func write(batchID: UUID, holder: String) async throws -> Written {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = "\(batchID.uuidString.lowercased()).jsonl"
        let final = directory.appendingPathComponent(name)
        let temporary = directory.appendingPathComponent(name + ".part")
        FileManager.default.createFile(atPath: temporary.path, contents: nil)
        let handle = try FileHandle(forWritingTo: temporary)
        var written = Written(file: final, lines: 0, bytes: 0)
        do {
            var after = -1
            while true {
                let jobs = try await JobRecord.query(on: database).filter(\.$batchID == batchID).filter(\.$status == "running")
                    .filter(\.$leaseOwner == holder).filter(\.$batchIndex > after).sort(\.$batchIndex).limit(Self.page).all()
                guard let last = jobs.last else { break }
                var chunk = Data()
                for job in jobs { chunk += try Self.line(for: job) }
                try handle.write(contentsOf: chunk)
                written.lines += jobs.count
                written.bytes += chunk.count
                after = last.batchIndex ?? after
            }
            try handle.synchronize()
            try handle.close()
            _ = try? FileManager.default.removeItem(at: final)
            try FileManager.default.moveItem(at: temporary, to: final)
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        return written
    }

    /// One JSONL line (with its newline) for `job`.
    static func line(for job: JobRecord) throws -> Data {
        var fields = OpenAIImageProvider.fields(
            for: ProviderRequest(parameters: job.params, safetyIdentifier: SafetyIdentifier.forOwner(job.owner)))
        fields.partialImages = nil
        var line = Data(#"{"custom_id":""#.utf8)
        line += Data(try job.requireID().uuidString.lowercased().utf8)
        line += Data(#"","method":"POST","url":"\#(endpoint)","body":"#.utf8)
        line += try OpenAIImagesClient.generationsBody(fields)
        line += Data("}\n".utf8)
        return line
    }
}
