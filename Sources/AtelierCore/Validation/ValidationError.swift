/// A request the caller must fix: names the field and says what is allowed.
public struct ValidationError: Error, Sendable, Equatable {
    public var code: String
    public var field: String?
    public var message: String

    public init(code: String = "invalid_value", field: String?, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    static func notAllowed(_ field: String, _ value: String, allowed: [String], model: String) -> ValidationError {
        let list = allowed.isEmpty ? "none (omit it)" : allowed.joined(separator: ", ")
        return ValidationError(
            field: field, message: "\(field) '\(value)' is not supported by \(model). Allowed: \(list).")
    }
}
