import AtelierCore
import Fluent
import Foundation
import Vapor

/// `GET /v1/batches/{id}/archive`: the batch as a ZIP streamed entry by entry (`ArchiveResponse`): first
/// `batch.csv` (one line per output image, or per job without one: batch index, data row, the row's variables,
/// prompt, model, size, quality, status, cost, seconds, file name), then each output image as it is read.
struct BatchArchiveController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped("batches", ":batchID").get("archive", use: archive)
    }

    @Sendable func archive(req: Request) async throws -> Response {
        let batch = try await req.ownedBatch()
        let jobs = try await JobRecord.query(on: req.db).filter(\.$batchID == batch.id!).sort(\.$batchIndex).all()
        let images = try await ImageRecord.query(on: req.db).filter(\.$job.$id ~~ jobs.compactMap(\.id))
            .filter(\.$role == ImageRecord.Role.output.rawValue).sort(\.$index).all()
        let byJob = Dictionary(grouping: images, by: { $0.$job.id })
        let variables = batch.options.variables
        var csv = BatchArchiveCSV(variables: variables)
        var files: [ArchiveResponse.Entry] = []
        let blobs = req.atelier.blobs
        for job in jobs {
            let outputs = byJob[job.id!] ?? []
            if outputs.isEmpty { csv.add(job, file: nil) }
            for image in outputs {
                let name = Self.filename(job, image)
                csv.add(job, file: name)
                if let key = BlobKey(image.blobKey) {
                    files.append(ArchiveResponse.Entry(name: name, bytes: image.bytes) { try await blobs.get(key) })
                }
            }
        }
        let table = Data(csv.text.utf8)
        let entries = [ArchiveResponse.Entry(name: "batch.csv", bytes: table.count) { table }] + files
        return try ArchiveResponse(req: req).response(entries, filename: "atelier-batch-\(batch.id!.uuidString.prefix(8).lowercased()).zip")
    }

    /// `00042-1.png`: the job's 1-based place in the batch (zero-padded so files sort in batch order) and the image index.
    static func filename(_ job: JobRecord, _ image: ImageRecord) -> String {
        let place = String((job.batchIndex ?? 0) + 1)
        let padded = String(repeating: "0", count: max(0, 5 - place.count)) + place
        return "\(padded)-\(image.index + 1).\(image.format == "jpeg" ? "jpg" : image.format)"
    }
}

/// The `batch.csv` of a batch archive (RFC 4180: CRLF lines, fields with a comma, quote or line break quoted).
struct BatchArchiveCSV {
    let variables: [String]
    private(set) var text: String

    init(variables: [String]) {
        self.variables = variables
        text = ""
        line(["index", "row"] + variables + ["prompt", "model", "size", "quality", "status", "cost_usd", "seconds", "file"])
    }

    mutating func add(_ job: JobRecord, file: String?) {
        let seconds = both(job.startedAt, job.finishedAt).map { String(format: "%.3f", $1 - $0) } ?? ""
        let cost = job.costNano.map { "\(CostCalculator.dollars(nano: $0))" } ?? ""
        line(
            [String((job.batchIndex ?? 0) + 1), String(job.batchRow ?? 0)] + variables.map { job.batchVars?[$0] ?? "" }
                + [job.prompt, job.model, job.params.size, job.params.quality, job.status, cost, seconds, file ?? ""])
    }

    private mutating func line(_ fields: [String]) {
        text += fields.map(Self.escape).joined(separator: ",") + "\r\n"
    }

    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

private func both(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b else { return nil }
    return (a, b)
}
