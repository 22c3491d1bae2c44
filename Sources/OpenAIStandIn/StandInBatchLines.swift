import Foundation

/// Validates a batch input file the way OpenAI's `validating` step does: one JSON object a line with
/// `custom_id` (unique), `method` POST, `url` equal to the batch's endpoint, an object `body`, one model for all.
enum StandInBatchLines {
    static let maxLines = 50_000

    struct LineError: Error, Sendable {
        var code: String
        var message: String
        var param: String?
        var line: Int

        var json: [String: Any] {
            ["code": code, "message": message, "param": param as Any? ?? NSNull(), "line": line]
        }
    }

    static func parse(_ data: Data, endpoint: String) -> Result<[StandInBatchLine], LineError> {
        var lines: [StandInBatchLine] = []
        var seen = Set<String>()
        var model: String?
        var number = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let trimmed = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
            if trimmed.isEmpty { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed))) as? [String: Any] else {
                return .failure(LineError(code: "invalid_json_line", message: "This line is not parseable as valid JSON.", line: number))
            }
            for key in object.keys where !["custom_id", "method", "url", "body"].contains(key) {
                return .failure(LineError(code: "unknown_parameter", message: "Unknown parameter: '\(key)'.", param: key, line: number))
            }
            guard let customID = object["custom_id"] as? String, !customID.isEmpty else {
                return .failure(missing("custom_id", number))
            }
            guard seen.insert(customID).inserted else {
                return .failure(
                    LineError(
                        code: "duplicate_custom_id",
                        message:
                            "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.",
                        param: "custom_id", line: number))
            }
            guard let method = object["method"] as? String else { return .failure(missing("method", number)) }
            guard method == "POST" else {
                return .failure(
                    LineError(code: "invalid_method", message: "The method for this request must be 'POST'.", param: "method", line: number)
                )
            }
            guard let url = object["url"] as? String else { return .failure(missing("url", number)) }
            guard url == endpoint else {
                return .failure(
                    LineError(
                        code: "invalid_url", message: "The URL provided for this request does not match the batch endpoint '\(endpoint)'.",
                        param: "url", line: number))
            }
            guard let body = object["body"] as? [String: Any] else { return .failure(missing("body", number)) }
            let lineModel = body["model"] as? String
            if !lines.isEmpty, lineModel != model {
                return .failure(
                    LineError(
                        code: "mismatched_model",
                        message:
                            "The provided model is different from the model in the other requests in this batch. Every request in a batch must use the same model.",
                        param: "body.model", line: number))
            }
            model = lineModel
            guard let bodyData = try? JSONSerialization.data(withJSONObject: body, options: [.withoutEscapingSlashes]) else {
                return .failure(LineError(code: "invalid_json_line", message: "The body is not valid JSON.", param: "body", line: number))
            }
            lines.append(StandInBatchLine(customID: customID, body: bodyData))
            if lines.count > maxLines {
                return .failure(
                    LineError(code: "too_many_requests", message: "A batch may hold at most \(maxLines) requests.", line: number))
            }
        }
        if lines.isEmpty {
            return .failure(LineError(code: "empty_file", message: "The batch input file is empty.", line: 1))
        }
        return .success(lines)
    }

    private static func missing(_ param: String, _ line: Int) -> LineError {
        LineError(code: "missing_required_parameter", message: "Missing required parameter: '\(param)'.", param: param, line: line)
    }
}
