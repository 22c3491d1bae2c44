import AtelierCore
import Fluent
import Foundation

/// One row per job: the request, its queue state (lease, attempts, back-off) and its outcome.
/// Times are Unix seconds (Double) so the claim statements compare them the same way on SQLite and PostgreSQL.
public final class JobRecord: Model, @unchecked Sendable {
    public static let schema = "jobs"

    @ID(key: .id) public var id: UUID?
    @Field(key: "owner") public var owner: String
    @Field(key: "kind") public var kind: String
    @Field(key: "status") public var status: String
    @Field(key: "prompt") public var prompt: String
    @Field(key: "model") public var model: String
    @Field(key: "params") public var params: ImageParameters
    @OptionalField(key: "options") public var options: EditOptions?
    @OptionalField(key: "result") public var result: JobResultInfo?
    @OptionalField(key: "usage") public var usage: Usage?
    @OptionalField(key: "cost_nano") public var costNano: Int64?
    @OptionalField(key: "estimated_cost_nano") public var estimatedCostNano: Int64?
    @OptionalField(key: "error_code") public var errorCode: String?
    @OptionalField(key: "error_message") public var errorMessage: String?
    @OptionalField(key: "error_retryable") public var errorRetryable: Bool?
    @Field(key: "attempts") public var attempts: Int
    @Field(key: "max_attempts") public var maxAttempts: Int
    @Field(key: "run_after") public var runAfter: Double
    @OptionalField(key: "lease_owner") public var leaseOwner: String?
    @OptionalField(key: "lease_expires") public var leaseExpires: Double?
    @Field(key: "cancel_requested") public var cancelRequested: Bool
    @Field(key: "seq") public var seq: Int
    @OptionalField(key: "upstream_request_id") public var upstreamRequestID: String?
    @Field(key: "favorite") public var favorite: Bool
    @OptionalField(key: "idempotency_key") public var idempotencyKey: String?
    @OptionalField(key: "request_hash") public var requestHash: String?
    @Field(key: "created_at") public var createdAt: Double
    @OptionalField(key: "started_at") public var startedAt: Double?
    @OptionalField(key: "finished_at") public var finishedAt: Double?
    /// The label of the upstream key that ran the job (never the secret).
    @OptionalField(key: "upstream_key") public var upstreamKey: String?
    /// While queued for the upstream's rate limit: when there should be room again.
    @OptionalField(key: "rate_limit_until") public var rateLimitUntil: Double?
    /// When the job first waited for the rate limit (`JOB_RATE_LIMIT_WAIT` counts from here).
    @OptionalField(key: "rate_limited_since") public var rateLimitedSince: Double?
    /// Batch jobs: the batch, the job's position in it, its data row (1-based) and that row's variables.
    @OptionalField(key: "batch_id") public var batchID: UUID?
    @OptionalField(key: "batch_index") public var batchIndex: Int?
    @OptionalField(key: "batch_row") public var batchRow: Int?
    @OptionalField(key: "batch_vars") public var batchVars: [String: String]?
    /// Created by an OpenAI-compatible route: its answer goes only to the caller's open request, so a job whose
    /// worker died is not run again (`JobLifecycle.expireLeases` ends it `interrupted`).
    @Field(key: "compat_caller") public var compatCaller: Bool
    @Children(for: \.$job) public var images: [ImageRecord]

    public init() {}

    public init(
        id: UUID = UUID(), owner: String, kind: JobKind, params: ImageParameters, options: EditOptions? = nil,
        maxAttempts: Int, now: Double
    ) {
        self.id = id
        self.owner = owner
        self.kind = kind.rawValue
        self.prompt = params.prompt
        self.model = params.model
        self.params = params
        self.options = options
        self.attempts = 0
        self.maxAttempts = maxAttempts
        self.runAfter = now
        self.cancelRequested = false
        self.seq = 0
        self.favorite = false
        self.compatCaller = false
        self.createdAt = now
    }

    /// The typed status; an unknown value in the row is a `StoredValueError` naming it, never a default.
    public var jobStatus: JobStatus { get throws { try JobStatus(row: self) } }
    public var jobKind: JobKind { get throws { try JobKind(row: self) } }
}

/// Options of edit and auto-mask jobs beyond the image parameters.
public struct EditOptions: Codable, Sendable, Equatable {
    public var preserveUnmasked: Bool
    public var featherRadius: Int
    public var maskEditColor: String?
    /// For auto-mask jobs: what to select.
    public var subject: String?

    enum CodingKeys: String, CodingKey {
        case preserveUnmasked = "preserve_unmasked", featherRadius = "feather", maskEditColor = "mask_edit_color", subject
    }

    public init(preserveUnmasked: Bool = false, featherRadius: Int = 8, maskEditColor: String? = nil, subject: String? = nil) {
        self.preserveUnmasked = preserveUnmasked
        self.featherRadius = featherRadius
        self.maskEditColor = maskEditColor
        self.subject = subject
    }
}

/// What the upstream says it actually did (resolved values, never `auto`).
public struct JobResultInfo: Codable, Sendable, Equatable {
    public var size: String?
    public var quality: String?
    public var background: String?
    public var outputFormat: String?
    /// false when the image reached its caller (the compatible routes' fast path) but could not be stored.
    public var stored: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case size, quality, background, stored
        case outputFormat = "output_format"
    }

    public init(size: String?, quality: String?, background: String?, outputFormat: String?) {
        self.size = size
        self.quality = quality
        self.background = background
        self.outputFormat = outputFormat
    }
}
