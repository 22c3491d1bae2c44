import Foundation

/// A file held by the stand-in's Files API (`FileObject` on the wire).
struct StandInFile: Sendable {
    var id: String
    var filename: String
    var purpose: String
    var createdAt: Int
    var data: Data

    var json: [String: Any] {
        [
            "id": id, "object": "file", "bytes": data.count, "created_at": createdAt, "filename": filename,
            "purpose": purpose, "status": "processed", "expires_at": NSNull(), "status_details": NSNull(),
        ]
    }
}

/// One validated input line of a batch.
struct StandInBatchLine: Sendable {
    var customID: String
    var body: Data
}

/// One executed line: exactly one of `response` (any status) or `error` (never executed) is set.
struct StandInBatchResult: Sendable {
    var customID: String
    var statusCode: Int?
    var requestID: String?
    /// The response body JSON (an `ImagesResponse` or an `{"error":…}` object).
    var body: Data?
    var errorCode: String?
    var errorMessage: String?

    var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }

    /// `{"id","custom_id","response":{"status_code","request_id","body"},"error"}` as one JSONL line.
    func jsonLine(id: String) -> Data {
        func quoted(_ text: String) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        }
        var line = "{\"id\":\(quoted(id)),\"custom_id\":\(quoted(customID)),\"response\":"
        if let statusCode, let body {
            line += "{\"status_code\":\(statusCode),\"request_id\":\(quoted(requestID ?? "")),\"body\":"
            var data = Data(line.utf8)
            data.append(body)
            data.append(Data("},\"error\":null}\n".utf8))
            return data
        }
        line += "null,\"error\":{\"code\":\(quoted(errorCode ?? "batch_failed")),\"message\":\(quoted(errorMessage ?? ""))}}\n"
        return Data(line.utf8)
    }
}

/// A batch as the stand-in keeps it (`Batch` on the wire).
struct StandInBatch: Sendable {
    enum Status: String, Sendable {
        case validating, failed, inProgress = "in_progress", finalizing, completed, expired, cancelling, cancelled
    }

    var id: String
    var endpoint: String
    var inputFileID: String
    var completionWindow: String
    var metadata: [String: String]?
    var status: Status = .validating
    var createdAt: Int
    var timestamps: [String: Int] = [:]
    var lines: [StandInBatchLine] = []
    var results: [StandInBatchResult] = []
    /// Validation errors (`errors.data`), set when the batch failed validation.
    var errors: [StandInBatchLines.LineError]?
    var outputFileID: String?
    var errorFileID: String?
    var total = 0

    var isFinal: Bool { [.failed, .completed, .expired, .cancelled].contains(status) }

    mutating func move(to next: Status, at now: Int) {
        status = next
        let key = next == .inProgress ? "in_progress_at" : "\(next.rawValue)_at"
        timestamps[key] = now
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "id": id, "object": "batch", "endpoint": endpoint, "input_file_id": inputFileID,
            "completion_window": completionWindow, "status": status.rawValue, "created_at": createdAt,
            "expires_at": createdAt + 86_400, "output_file_id": outputFileID as Any? ?? NSNull(),
            "error_file_id": errorFileID as Any? ?? NSNull(), "metadata": metadata as Any? ?? NSNull(),
            "errors": errors.map { ["object": "list", "data": $0.map(\.json)] as [String: Any] } as Any? ?? NSNull(),
            "request_counts": [
                "total": total, "completed": results.filter(\.succeeded).count,
                "failed": results.filter { !$0.succeeded }.count,
            ],
        ]
        for key in [
            "in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at",
        ] {
            object[key] = timestamps[key] as Any? ?? NSNull()
        }
        return object
    }
}
