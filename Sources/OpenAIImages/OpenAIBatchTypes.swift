import Foundation

/// OpenAI's `FileObject` (the fields Atelier reads).
public struct OpenAIFileObject: Decodable, Sendable, Equatable {
    public var id: String
    public var bytes: Int
    public var createdAt: Int
    public var filename: String
    public var purpose: String

    enum CodingKeys: String, CodingKey {
        case id, bytes, filename, purpose
        case createdAt = "created_at"
    }
}

/// OpenAI's `Batch` (the fields Atelier reads).
public struct OpenAIBatch: Decodable, Sendable, Equatable {
    public enum Status: String, Decodable, Sendable {
        case validating, failed, inProgress = "in_progress", finalizing, completed, expired, cancelling, cancelled

        /// No further change will come: the output and error files (if any) are final.
        public var isFinal: Bool { [.failed, .completed, .expired, .cancelled].contains(self) }
    }

    public struct RequestCounts: Decodable, Sendable, Equatable {
        public var total: Int
        public var completed: Int
        public var failed: Int
    }

    /// One entry of `errors.data` (a validation failure of the input file).
    public struct LineError: Decodable, Sendable, Equatable {
        public var code: String?
        public var message: String?
        public var param: String?
        public var line: Int?
    }

    struct Errors: Decodable, Sendable, Equatable { var data: [LineError] }

    public var id: String
    public var endpoint: String
    public var inputFileID: String
    public var completionWindow: String
    public var status: Status
    public var outputFileID: String?
    public var errorFileID: String?
    public var createdAt: Int
    public var requestCounts: RequestCounts?
    public var metadata: [String: String]?
    var errors: Errors?

    public var validationErrors: [LineError] { errors?.data ?? [] }

    enum CodingKeys: String, CodingKey {
        case id, endpoint, status, metadata, errors
        case inputFileID = "input_file_id", completionWindow = "completion_window", outputFileID = "output_file_id"
        case errorFileID = "error_file_id", createdAt = "created_at", requestCounts = "request_counts"
    }
}

/// A page of `GET /batches`.
public struct OpenAIBatchList: Decodable, Sendable {
    public var data: [OpenAIBatch]
    public var hasMore: Bool
    public var lastID: String?

    enum CodingKeys: String, CodingKey {
        case data
        case hasMore = "has_more", lastID = "last_id"
    }
}

/// One line of a batch's output or error file:
/// `{"id","custom_id","response":{"status_code","request_id","body"},"error":{"code","message"}}`.
public struct OpenAIBatchOutputLine: Sendable, Equatable {
    public var id: String
    public var customID: String
    public var statusCode: Int?
    public var requestID: String?
    /// `response.body` as JSON bytes (an `ImagesResponse`, or an `{"error":…}` object for a non-2xx status).
    public var body: Data?
    /// `error` (set when the request never ran, e.g. `batch_expired`).
    public var errorCode: String?
    public var errorMessage: String?

    public var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }

    /// Parses one line; nil when it is not an output line.
    public init?(_ line: Data) {
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any],
            let customID = object["custom_id"] as? String
        else { return nil }
        self.id = object["id"] as? String ?? ""
        self.customID = customID
        if let response = object["response"] as? [String: Any] {
            statusCode = response["status_code"] as? Int
            requestID = response["request_id"] as? String
            body = response["body"].flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.withoutEscapingSlashes]) }
        }
        if let error = object["error"] as? [String: Any] {
            errorCode = error["code"] as? String
            errorMessage = error["message"] as? String
        }
        if statusCode == nil && errorCode == nil { return nil }
    }
}
