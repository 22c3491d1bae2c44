import AtelierCore
import Foundation
import Vapor

/// Where a job sits in its batch: `{"id", "index", "row", "variables"}` (`index` is unique in the batch,
/// `row` the 1-based data row, `variables` that row's values).
struct BatchLink: Content {
    var id: UUID
    var index: Int
    var row: Int
    var variables: [String: String]

    init?(_ job: JobRecord) {
        guard let id = job.batchID else { return nil }
        self.id = id
        index = job.batchIndex ?? 0
        row = job.batchRow ?? 0
        variables = job.batchVars ?? [:]
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(index, forKey: .index)
        try c.encode(row, forKey: .row)
        try c.encode(variables, forKey: .variables)
    }
}

/// A batch as the API shows it: progress counts, the estimate reserved for it and what its jobs cost so far.
struct BatchDTO: Content {
    struct Counts: Content {
        var total = 0, queued = 0, running = 0, succeeded = 0, failed = 0, canceled = 0
    }

    var id: UUID
    var name: String
    var mode: String
    var status: String
    var prompt: String
    var options: ImageRequestInput
    var sweep: [String: [String]]
    var variables: [String]
    var counts: Counts
    var estimatedCostUSD: Decimal
    var costUSD: Decimal
    var upstreamBatchID: String?
    /// Mode `openai_batch`: the OpenAI batch's last seen status (`validating`, `in_progress`, `finalizing`,
    /// `completed`, `expired`, `cancelling`, `cancelled`, `failed`); null before it is created.
    var upstreamStatus: String?
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, mode, status, prompt, options, sweep, variables, counts
        case estimatedCostUSD = "estimated_cost_usd", costUSD = "cost_usd", upstreamBatchID = "upstream_batch_id"
        case upstreamStatus = "upstream_status"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ batch: BatchRecord, progress: BatchProgress) {
        id = batch.id ?? UUID()
        name = batch.name
        mode = batch.mode
        status = batch.status
        prompt = batch.prompt
        options = batch.options.defaults
        sweep = Dictionary(batch.options.sweep.map { ($0.option, $0.values) }, uniquingKeysWith: { first, _ in first })
        variables = batch.options.variables
        counts = progress.counts
        counts.total = batch.total
        estimatedCostUSD = CostCalculator.dollars(nano: batch.estimatedCostNano)
        costUSD = CostCalculator.dollars(nano: progress.costNano)
        upstreamBatchID = batch.upstreamBatchID
        upstreamStatus = batch.upstreamStatus
        createdAt = Date(timeIntervalSince1970: batch.createdAt)
        updatedAt = Date(timeIntervalSince1970: batch.updatedAt)
    }

    /// Every documented key is present; absent values are `null`. Ids are lowercase.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(mode, forKey: .mode)
        try c.encode(status, forKey: .status)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(options, forKey: .options)
        try c.encode(sweep, forKey: .sweep)
        try c.encode(variables, forKey: .variables)
        try c.encode(counts, forKey: .counts)
        try c.encode(estimatedCostUSD, forKey: .estimatedCostUSD)
        try c.encode(costUSD, forKey: .costUSD)
        try c.encode(upstreamBatchID, forKey: .upstreamBatchID)
        try c.encode(upstreamStatus, forKey: .upstreamStatus)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

typealias BatchListDTO = PageDTO<BatchDTO>
