import AtelierCore
import Foundation

/// A checked batch request: its template, rows and sweep, turned into one job per row × sweep combination.
/// `init` refuses what is wrong with the request as a whole (one field); `check` then validates every job
/// against the model registry, and `forEachJob` yields them again for creation (nothing is kept in between).
struct BatchPlan: Sendable {
    let name: String
    let mode: BatchMode
    let prompt: String
    let template: BatchTemplate
    let rows: BatchRows
    let options: BatchOptions
    let validator: ImageRequestValidator
    let costs: CostCalculator
    /// The caller may use moderation=low.
    let verified: Bool
    /// A cap applies, so an unpriced model is refused (its cost could not be reserved).
    let capped: Bool

    /// Options a row's column or a sweep may set, in the order sweeps are expanded.
    static let optionNames = [
        "model", "quality", "size", "background", "output_format", "output_compression", "moderation", "n", "complexity",
    ]
    static let maxSweepValues = 50

    /// How many combinations of the sweep each row makes.
    var combinations: Int { options.sweep.reduce(1) { $0 * $1.values.count } }

    init(
        _ request: BatchRequest, validator: ImageRequestValidator, costs: CostCalculator, verified: Bool, capped: Bool
    ) throws {
        let name = (request.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.count <= BatchRequest.maxNameLength else {
            throw APIError.invalid("name", "name has \(name.count) characters; at most \(BatchRequest.maxNameLength).")
        }
        self.name = name.isEmpty ? "Untitled batch" : name
        guard let mode = BatchMode(rawValue: request.mode ?? BatchMode.live.rawValue) else {
            throw APIError.invalid("mode", "mode must be live or openai_batch.")
        }
        self.mode = mode
        guard let prompt = request.prompt, !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.invalid("prompt", "A prompt template is required, e.g. \"a {{subject}} in {{style}}\".", code: "missing_field")
        }
        self.prompt = prompt
        template = BatchTemplate(prompt)
        switch (request.rows, request.csv) {
        case (.some, .some): throw APIError.invalid("csv", "Give rows or csv, not both.")
        case (let objects?, nil): rows = BatchRows(source: .objects(objects))
        case (nil, let text?): rows = BatchRows(source: .csv(text))
        case (nil, nil): rows = BatchRows(source: .single)
        }
        var axes: [BatchOptions.Axis] = []
        for (option, values) in request.sweep ?? [:] {
            guard Self.optionNames.contains(option) else {
                throw APIError.invalid(
                    "sweep.\(option)", "'\(option)' cannot be swept; sweep any of \(Self.optionNames.joined(separator: ", ")).")
            }
            guard (1...Self.maxSweepValues).contains(values.count) else {
                throw APIError.invalid("sweep.\(option)", "sweep.\(option) needs 1 to \(Self.maxSweepValues) values; got \(values.count).")
            }
            axes.append(.init(option: option, values: values.map(\.text)))
        }
        axes.sort { Self.optionNames.firstIndex(of: $0.option)! < Self.optionNames.firstIndex(of: $1.option)! }
        options = BatchOptions(defaults: request.options, sweep: axes, variables: template.variables)
        self.validator = validator
        self.costs = costs
        self.verified = verified
        self.capped = capped
    }

    /// One job of the batch, ready to be written.
    struct Job: Sendable {
        var index: Int
        var row: Int
        var variables: [String: String]
        var params: ImageParameters
        var estimatedCostNano: Int64?
    }

    /// Walks every job; `body` gets each valid job or the problem with it. Problems with the rows as a whole
    /// (an unknown variable, a bad CSV header) come first, once.
    func forEachJob(_ body: (Result<Job, BatchRowError>) async throws -> Void) async rethrows {
        let columns: Set<String>
        switch rows.columns() {
        case .failure(let problem): return try await body(.failure(problem))
        case .success(let names): columns = names
        }
        let maxRows = min(BatchRequest.maxRows, BatchRequest.maxJobs / max(combinations, 1))
        if maxRows == 0 || combinations > BatchRequest.maxJobs {
            return try await body(
                .failure(
                    BatchRowError(
                        row: nil, field: "sweep", code: "too_many_jobs",
                        message: "The sweep makes \(combinations) jobs per row; a batch has at most \(BatchRequest.maxJobs) jobs.")))
        }
        if let unknown = template.variables.first(where: { !columns.contains($0) }) {
            let known = columns.sorted().joined(separator: ", ")
            return try await body(
                .failure(
                    BatchRowError(
                        row: 1, field: "prompt", code: "unknown_variable",
                        message: "{{\(unknown)}} in the prompt has no \(rows.field == "csv" ? "column" : "value") in the rows"
                            + (known.isEmpty ? " (there are none)." : "; they have \(known)."))))
        }
        let combinations = combinations
        try await rows.forEach(limit: maxRows) { row in
            switch row {
            case .problem(let problem): try await body(.failure(problem))
            case .values(let number, let values):
                for combination in 0..<combinations {
                    try await body(job(row: number, values: values, combination: combination, combinations: combinations))
                }
            }
        }
    }

    private func job(row: Int, values: [String: String], combination: Int, combinations: Int) -> Result<Job, BatchRowError> {
        if let missing = template.variables.first(where: { values[$0] == nil }) {
            return .failure(
                BatchRowError(
                    row: row, field: missing, code: "missing_column", message: "Row \(row) has no value for {{\(missing)}}."))
        }
        var input = options.defaults
        input.prompt = template.render(values)
        var settings: [(String, String)] = Self.optionNames.compactMap { name in values[name].flatMap { $0.isEmpty ? nil : (name, $0) } }
        var rest = combination
        for axis in options.sweep.reversed() {
            settings.append((axis.option, axis.values[rest % axis.values.count]))
            rest /= axis.values.count
        }
        for (option, value) in settings {
            if let problem = Self.set(option, to: value, in: &input) {
                return .failure(BatchRowError(row: row, field: option, code: "invalid_value", message: problem))
            }
        }
        let params: ImageParameters
        do { params = try validator.validate(input, for: .generations) } catch {
            return .failure(BatchRowError(row: row, field: error.field, code: error.code, message: error.message))
        }
        if params.moderation == "low" && !verified {
            return .failure(
                BatchRowError(
                    row: row, field: "moderation", code: "moderation_not_allowed",
                    message: "moderation=low is only available to verified accounts; use auto."))
        }
        let estimate = costs.estimatedCost(for: params).map(CostCalculator.nanoDollars)
        if estimate == nil && capped {
            return .failure(
                BatchRowError(
                    row: row, field: "model", code: "unpriced_model",
                    message: "\(params.model) has no price in the registry, so your spending cap cannot be enforced."))
        }
        let index = (row - 1) * combinations + combination
        return .success(Job(index: index, row: row, variables: values, params: params, estimatedCostNano: estimate))
    }

    /// Sets one option from its text; returns what is wrong with the value.
    private static func set(_ option: String, to value: String, in input: inout ImageRequestInput) -> String? {
        func number() -> Int? { Int(value) ?? Double(value).flatMap { $0.rounded() == $0 ? Int(exactly: $0) : nil } }
        switch option {
        case "model": input.model = value
        case "quality": input.quality = value
        case "size": input.size = value
        case "background": input.background = value
        case "output_format": input.outputFormat = value
        case "moderation": input.moderation = value
        case "complexity": input.complexity = value
        case "n", "output_compression":
            guard let number = number() else { return "\(option) must be a whole number; got '\(value)'." }
            if option == "n" { input.n = number } else { input.outputCompression = number }
        default: return "'\(option)' is not an option a batch can set."
        }
        return nil
    }
}
