import AtelierCore
import Fluent
import Foundation

/// One row per batch: its template, shared options and sweep, the estimate reserved for it and, for mode
/// `openai_batch`, the OpenAI batch and files behind it. Its jobs are ordinary jobs with `batch_id` set.
public final class BatchRecord: Model, @unchecked Sendable {
    public static let schema = "batches"

    @ID(key: .id) public var id: UUID?
    @Field(key: "owner") public var owner: String
    @Field(key: "name") public var name: String
    @Field(key: "mode") public var mode: String
    @Field(key: "status") public var status: String
    /// The prompt template, with `{{variables}}`.
    @Field(key: "prompt") public var prompt: String
    @Field(key: "options") public var options: BatchOptions
    /// How many jobs the batch has (rows × sweep combinations).
    @Field(key: "total") public var total: Int
    @Field(key: "estimated_cost_nano") public var estimatedCostNano: Int64
    /// Mode `openai_batch`: the OpenAI batch and its files, and when to poll it next.
    @OptionalField(key: "upstream_batch_id") public var upstreamBatchID: String?
    @OptionalField(key: "upstream_input_file_id") public var upstreamInputFileID: String?
    @OptionalField(key: "upstream_output_file_id") public var upstreamOutputFileID: String?
    @OptionalField(key: "upstream_error_file_id") public var upstreamErrorFileID: String?
    @OptionalField(key: "upstream_status") public var upstreamStatus: String?
    @OptionalField(key: "poll_after") public var pollAfter: Double?
    @Field(key: "poll_attempts") public var pollAttempts: Int
    @Field(key: "created_at") public var createdAt: Double
    @Field(key: "updated_at") public var updatedAt: Double

    public init() {}

    public init(
        id: UUID = UUID(), owner: String, name: String, mode: BatchMode, prompt: String, options: BatchOptions,
        total: Int, estimatedCostNano: Int64, now: Double
    ) {
        self.id = id
        self.owner = owner
        self.name = name
        self.mode = mode.rawValue
        self.status = BatchStatus.running.rawValue
        self.prompt = prompt
        self.options = options
        self.total = total
        self.estimatedCostNano = estimatedCostNano
        self.pollAttempts = 0
        self.createdAt = now
        self.updatedAt = now
    }

    /// The typed mode and status; an unknown value in the row is a `StoredValueError` naming it, never a default.
    var batchMode: BatchMode {
        get throws {
            guard let value = BatchMode(rawValue: mode) else {
                throw StoredValueError(table: "batches", column: "mode", rowID: id, value: mode)
            }
            return value
        }
    }
    var batchStatus: BatchStatus {
        get throws {
            guard let value = BatchStatus(rawValue: status) else {
                throw StoredValueError(table: "batches", column: "status", rowID: id, value: status)
            }
            return value
        }
    }
}

/// How a batch's jobs run: through the ordinary queue, or as one OpenAI Batch API batch (about half price,
/// answered within 24 hours).
public enum BatchMode: String, Codable, Sendable, CaseIterable {
    case live
    case openaiBatch = "openai_batch"
}

/// A batch's own state. A live batch is `running` until every job has ended (`completed`), or `canceled`.
/// An `openai_batch` batch is `queued` until its input file is uploaded and the OpenAI batch created.
public enum BatchStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, completed, canceled, failed
}

/// What a batch's jobs share: the generate options given next to the template (`defaults`, prompt unset), the
/// sweep (each option with its values, in `BatchOptions.sweepOrder`) and the template's variables.
public struct BatchOptions: Codable, Sendable, Equatable {
    public struct Axis: Codable, Sendable, Equatable {
        public var option: String
        /// As given, as JSON scalars written as text (`"1024x1024"`, `"2"`).
        public var values: [String]

        public init(option: String, values: [String]) {
            self.option = option
            self.values = values
        }
    }

    public var defaults: ImageRequestInput
    public var sweep: [Axis]
    public var variables: [String]

    public init(defaults: ImageRequestInput, sweep: [Axis], variables: [String]) {
        self.defaults = defaults
        self.sweep = sweep
        self.variables = variables
    }
}
