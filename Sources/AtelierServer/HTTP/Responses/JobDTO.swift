import AtelierCore
import Foundation
import Vapor

/// A job as the API shows it (docs/API.md).
struct JobDTO: Content {
    struct ErrorInfo: Content {
        var code: String
        var message: String
        var retryable: Bool
    }

    /// While queued for the upstream's rate limit: how long, roughly (the studio shows `message`).
    struct WaitInfo: Content {
        var reason: String
        var seconds: Int
        var until: Date
        var message: String
    }

    var id: UUID
    var kind: String
    var status: String
    var params: ImageParameters
    var options: EditOptions?
    var result: JobResultInfo?
    /// The outputs only, in order: `images[0]` is the first result.
    var images: [ImageDTO]
    /// What an edit made besides its outputs: the `changes` map and the `raw` upstream output.
    var extras: [ImageDTO]
    var inputs: [ImageDTO]
    var partials: [ImageDTO]
    var usage: Usage?
    var costUSD: Decimal?
    var estimatedCostUSD: Decimal?
    var error: ErrorInfo?
    var attempts: Int
    var favorite: Bool
    var upstreamRequestID: String?
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var offline: Bool
    var waiting: WaitInfo?
    /// The label of the upstream key that ran the job (`OPENAI_API_KEYS`), never the key.
    var upstreamKey: String?
    /// For a batch's job: the batch and where the job sits in it (`BatchLink`); null otherwise.
    var batch: BatchLink?

    enum CodingKeys: String, CodingKey {
        case id, kind, status, params, options, result, images, extras, inputs, partials, usage, error, attempts, favorite, offline
        case costUSD = "cost_usd", estimatedCostUSD = "estimated_cost_usd", upstreamRequestID = "upstream_request_id"
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
        case waiting, upstreamKey = "upstream_key"
        case batch
    }

    /// Every documented key is present; absent values are `null`. Ids are lowercase.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(status, forKey: .status)
        try c.encode(params, forKey: .params)
        try c.encode(options, forKey: .options)
        try c.encode(result, forKey: .result)
        try c.encode(images, forKey: .images)
        try c.encode(extras, forKey: .extras)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(partials, forKey: .partials)
        try c.encode(usage, forKey: .usage)
        try c.encode(costUSD, forKey: .costUSD)
        try c.encode(estimatedCostUSD, forKey: .estimatedCostUSD)
        try c.encode(error, forKey: .error)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(favorite, forKey: .favorite)
        try c.encode(upstreamRequestID, forKey: .upstreamRequestID)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(offline, forKey: .offline)
        try c.encode(waiting, forKey: .waiting)
        try c.encode(upstreamKey, forKey: .upstreamKey)
        try c.encode(batch, forKey: .batch)
    }

    /// `now` (Unix seconds) dates the rate-limit wait.
    init(_ job: JobRecord, images: [ImageRecord], offline: Bool, now: Double = Date().timeIntervalSince1970) {
        let dtos = images.sorted { ($0.role, $0.index) < ($1.role, $1.index) }.map(ImageDTO.init)
        id = job.id ?? UUID()
        kind = job.kind
        status = job.status
        params = job.params
        options = job.options
        result = job.result
        self.images = dtos.filter { $0.role == "output" }
        extras = dtos.filter { ["changes", "raw"].contains($0.role) }
        inputs = dtos.filter { ["input", "mask", "markup"].contains($0.role) }
        partials = dtos.filter { $0.role == "partial" }
        usage = job.usage
        costUSD = job.costNano.map(CostCalculator.dollars(nano:))
        estimatedCostUSD = job.estimatedCostNano.map(CostCalculator.dollars(nano:))
        let finishedWithoutSuccess = [JobStatus.failed.rawValue, JobStatus.canceled.rawValue].contains(job.status)
        let unstored = job.status == JobStatus.succeeded.rawValue && job.result?.stored == false
        error = job.errorCode.flatMap { code in
            (finishedWithoutSuccess || job.status == JobStatus.queued.rawValue || unstored)
                ? ErrorInfo(code: code, message: job.errorMessage ?? code, retryable: job.errorRetryable ?? false) : nil
        }
        attempts = job.attempts
        favorite = job.favorite
        upstreamRequestID = job.upstreamRequestID
        createdAt = Date(timeIntervalSince1970: job.createdAt)
        startedAt = job.startedAt.map(Date.init(timeIntervalSince1970:))
        finishedAt = job.finishedAt.map(Date.init(timeIntervalSince1970:))
        self.offline = offline
        upstreamKey = job.upstreamKey
        batch = BatchLink(job)
        waiting = job.rateLimitUntil.flatMap { until in
            guard job.status == JobStatus.queued.rawValue else { return nil }
            let seconds = max(0, Int((until - now).rounded(.up)))
            return WaitInfo(
                reason: "rate_limit", seconds: seconds, until: Date(timeIntervalSince1970: until),
                message: "Waiting for OpenAI's rate limit, about \(seconds) s")
        }
    }
}

struct ImageDTO: Content {
    var id: UUID
    var url: String
    var thumbnailURL: String?
    var role: String
    var index: Int
    var width: Int
    var height: Int
    var format: String
    var bytes: Int

    enum CodingKeys: String, CodingKey {
        case id, url, role, index, width, height, format, bytes
        case thumbnailURL = "thumbnail_url"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(url, forKey: .url)
        try c.encode(thumbnailURL, forKey: .thumbnailURL)
        try c.encode(role, forKey: .role)
        try c.encode(index, forKey: .index)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(format, forKey: .format)
        try c.encode(bytes, forKey: .bytes)
    }

    init(_ image: ImageRecord) {
        let id = image.id ?? UUID()
        self.id = id
        url = "/v1/images/\(id.uuidString.lowercased())"
        thumbnailURL = image.thumbnailKey == nil ? nil : url + "/thumbnail"
        role = image.role
        index = image.index
        width = image.width
        height = image.height
        format = image.format
        bytes = image.bytes
    }
}

/// One page of a list: its items and the cursor of the next page (`next_cursor`, present and null on the last).
struct PageDTO<Item: Content>: Content {
    var data: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}

typealias JobListDTO = PageDTO<JobDTO>
