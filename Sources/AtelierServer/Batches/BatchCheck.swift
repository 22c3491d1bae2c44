import AtelierCore
import Vapor

/// What validating a batch found: the problems (the first `listedErrors`, and how many in all), how many jobs
/// it makes and their estimated total cost. The answer of `POST /v1/batches/validate`.
struct BatchCheck: Content {
    static let listedErrors = 100

    var valid: Bool
    var jobs: Int
    var rows: Int
    var estimatedCostNano: Int64
    var errors: [BatchRowError]
    var errorCount: Int

    static func run(_ plan: BatchPlan) async -> BatchCheck {
        var check = BatchCheck(valid: true, jobs: 0, rows: 0, estimatedCostNano: 0, errors: [], errorCount: 0)
        var lastRow = 0
        await plan.forEachJob { result in
            switch result {
            case .success(let job):
                check.jobs += 1
                check.estimatedCostNano += job.estimatedCostNano ?? 0
                if job.row != lastRow { check.rows += 1; lastRow = job.row }
            case .failure(let problem):
                check.errorCount += 1
                if check.errors.count < listedErrors { check.errors.append(problem) }
            }
        }
        check.valid = check.errorCount == 0
        return check
    }

    var refusal: BatchRefusal { BatchRefusal(errors: errors, errorCount: errorCount) }

    enum CodingKeys: String, CodingKey {
        case valid, jobs, rows, errors
        case estimatedCostUSD = "estimated_cost_usd", errorCount = "error_count"
    }

    init(valid: Bool, jobs: Int, rows: Int, estimatedCostNano: Int64, errors: [BatchRowError], errorCount: Int) {
        self.valid = valid
        self.jobs = jobs
        self.rows = rows
        self.estimatedCostNano = estimatedCostNano
        self.errors = errors
        self.errorCount = errorCount
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            valid: try c.decode(Bool.self, forKey: .valid), jobs: try c.decode(Int.self, forKey: .jobs),
            rows: try c.decode(Int.self, forKey: .rows),
            estimatedCostNano: CostCalculator.nanoDollars(try c.decode(Decimal.self, forKey: .estimatedCostUSD)),
            errors: try c.decode([BatchRowError].self, forKey: .errors), errorCount: try c.decode(Int.self, forKey: .errorCount))
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(valid, forKey: .valid)
        try c.encode(jobs, forKey: .jobs)
        try c.encode(rows, forKey: .rows)
        try c.encode(CostCalculator.dollars(nano: estimatedCostNano), forKey: .estimatedCostUSD)
        try c.encode(errors, forKey: .errors)
        try c.encode(errorCount, forKey: .errorCount)
    }
}
