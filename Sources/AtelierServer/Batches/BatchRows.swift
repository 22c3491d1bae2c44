import Foundation

/// The data rows of a batch, from JSON objects or CSV text (first record = column names), walked one at a time
/// so validating and creating a large batch never holds a second copy of every row. Without rows a batch has
/// one empty row (a sweep of options on a fixed prompt).
struct BatchRows: Sendable {
    enum Source: Sendable {
        case objects([[String: BatchScalar]])
        case csv(String)
        case single
    }

    let source: Source
    /// The field errors name for the rows: `rows` or `csv`.
    var field: String {
        switch source {
        case .objects, .single: "rows"
        case .csv: "csv"
        }
    }

    /// One data row: its number (1-based), its values, or what is wrong with it.
    enum Row {
        case values(Int, [String: String])
        case problem(BatchRowError)
    }

    /// The column names every row has (CSV header; keys of the JSON rows, from any row), or a problem with them.
    func columns() -> Result<Set<String>, BatchRowError> {
        switch source {
        case .single: return .success([])
        case .objects(let rows): return .success(rows.reduce(into: Set<String>()) { $0.formUnion($1.keys) })
        case .csv(let text):
            var reader = CSVReader(text)
            guard let header = reader.next() else {
                return .failure(
                    BatchRowError(
                        row: nil, field: "csv", code: "missing_header",
                        message: "The CSV is empty; its first line must name the columns, e.g. subject,style."))
            }
            return Self.checkedHeader(header).map(Set.init)
        }
    }

    /// Calls `body` for each row, stopping after `limit` rows with a `too_many_rows` problem.
    func forEach(limit: Int, _ body: (Row) async throws -> Void) async rethrows {
        switch source {
        case .single:
            try await body(.values(1, [:]))
        case .objects(let rows):
            for (offset, row) in rows.enumerated() {
                if offset == limit { return try await body(.problem(tooMany(limit))) }
                try await body(.values(offset + 1, row.mapValues(\.text)))
            }
        case .csv(let text):
            var reader = CSVReader(text)
            guard let header = reader.next(), case .success(let names) = Self.checkedHeader(header) else { return }
            var number = 0
            while true {
                let line = reader.currentLine
                guard let record = reader.next() else { break }
                if record == [""] { continue }  // a blank line
                number += 1
                if number > limit { return try await body(.problem(tooMany(limit))) }
                if record.count != names.count {
                    let missing = record.count < names.count
                    try await body(
                        .problem(
                            BatchRowError(
                                row: number, field: missing ? names[record.count] : "csv",
                                code: missing ? "missing_column" : "extra_column",
                                message: "Row \(number) (line \(line)) has \(record.count) fields; the header names \(names.count)"
                                    + (missing ? ", so '\(names[record.count])' is missing." : ".")))
                    )
                    continue
                }
                try await body(.values(number, Dictionary(zip(names, record), uniquingKeysWith: { first, _ in first })))
            }
            if let problem = reader.problem {
                let description =
                    switch problem {
                    case .unterminatedQuote(let line): "a quoted field starting on line \(line) is never closed"
                    case .textAfterQuote(let line):
                        "line \(line) has text after a closing quote (double a quote inside a quoted field: \"\")"
                    }
                try await body(
                    .problem(
                        BatchRowError(
                            row: number + 1, field: "csv", code: "invalid_csv", message: "The CSV is not valid (RFC 4180): \(description).")
                    ))
            }
        }
    }

    private func tooMany(_ limit: Int) -> BatchRowError {
        BatchRowError(
            row: limit + 1, field: field, code: "too_many_rows",
            message: "A batch has at most \(limit) rows; split the data into several batches.")
    }

    private static func checkedHeader(_ header: [String]) -> Result<[String], BatchRowError> {
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        if let blank = names.firstIndex(of: "") {
            return .failure(
                BatchRowError(
                    row: nil, field: "csv", code: "invalid_header", message: "Column \(blank + 1) of the CSV header has no name."))
        }
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            return .failure(
                BatchRowError(
                    row: nil, field: "csv", code: "invalid_header", message: "The CSV header names '\(duplicate)' twice."))
        }
        return .success(names)
    }
}
