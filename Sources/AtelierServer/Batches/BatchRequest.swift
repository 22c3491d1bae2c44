import AtelierCore
import Foundation

/// The body of `POST /v1/batches` and `POST /v1/batches/validate`: a prompt template with `{{variables}}`, its
/// rows (JSON objects or CSV text, at most one of them), an optional sweep of option lists, and any generate
/// option shared by every job.
struct BatchRequest: Decodable, Sendable {
    var name: String?
    var mode: String?
    var prompt: String?
    var rows: [[String: BatchScalar]]?
    var csv: String?
    var sweep: [String: [BatchScalar]]?
    /// The generate options given next to the template (`prompt` is the template, so it is cleared here).
    var options: ImageRequestInput

    enum CodingKeys: String, CodingKey {
        case name, mode, prompt, rows, csv, sweep
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        mode = try c.decodeIfPresent(String.self, forKey: .mode)
        prompt = try c.decodeIfPresent(String.self, forKey: .prompt)
        rows = try c.decodeIfPresent([[String: BatchScalar]].self, forKey: .rows)
        csv = try c.decodeIfPresent(String.self, forKey: .csv)
        sweep = try c.decodeIfPresent([String: [BatchScalar]].self, forKey: .sweep)
        options = try ImageRequestInput(from: decoder)
        options.prompt = nil
    }

    /// Most rows a batch may have (data rows, before the sweep multiplies them), and most jobs in all.
    static let maxRows = 100_000
    static let maxJobs = 100_000
    static let maxNameLength = 200
    /// Largest request body the batch routes read (CSV text or rows).
    static let maxBodyBytes = 32 * 1024 * 1024
}

/// A cell of a row or a sweep value: JSON strings, numbers and booleans are all taken as their text.
struct BatchScalar: Decodable, Sendable, Equatable {
    var text: String

    init(_ text: String) { self.text = text }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let value = try? c.decode(String.self) {
            text = value
        } else if let value = try? c.decode(Int.self) {
            text = String(value)
        } else if let value = try? c.decode(Double.self) {
            text = String(value)
        } else if let value = try? c.decode(Bool.self) {
            text = String(value)
        } else if c.decodeNil() {
            text = ""
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "Expected a string, a number or a boolean.")
        }
    }
}
