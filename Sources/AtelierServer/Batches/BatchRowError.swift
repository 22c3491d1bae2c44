import Vapor

/// One problem with a batch, naming the data row (1-based; the CSV header is not counted) and the field.
struct BatchRowError: Content, Equatable, Error {
    var row: Int?
    var field: String?
    var code: String
    var message: String

    /// `row` and `field` are always present (null when the problem is not about one).
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(row, forKey: .row)
        try c.encode(field, forKey: .field)
        try c.encode(code, forKey: .code)
        try c.encode(message, forKey: .message)
    }
}

/// A batch refused before anything was created: the first `BatchCheck.listedErrors` problems and how many
/// there are in all. Answers 400 `{"error": {code, message, field, row}, "errors": [...], "error_count": n}`.
struct BatchRefusal: Error {
    var errors: [BatchRowError]
    var errorCount: Int

    func response() throws -> Response {
        struct Body: Content {
            struct Detail: Content {
                var code: String
                var message: String
                var field: String?
                var row: Int?

                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(code, forKey: .code)
                    try c.encode(message, forKey: .message)
                    try c.encode(field, forKey: .field)
                    try c.encode(row, forKey: .row)
                }
            }

            var error: Detail
            var errors: [BatchRowError]
            var errorCount: Int

            enum CodingKeys: String, CodingKey {
                case error, errors
                case errorCount = "error_count"
            }
        }
        let first = errors.first
        let place = [first?.row.map { "row \($0)" }, first?.field].compactMap { $0 }.joined(separator: ", ")
        let message =
            "The batch has \(errorCount) problem\(errorCount == 1 ? "" : "s") and nothing was created; "
            + "first (\(place)): \(first?.message ?? "")"
        let body = Body(
            error: .init(code: "invalid_batch", message: message, field: first?.field, row: first?.row), errors: errors,
            errorCount: errorCount)
        let response = Response(status: .badRequest)
        try response.content.encode(body, using: JSONEncoder.api)
        return response
    }
}
