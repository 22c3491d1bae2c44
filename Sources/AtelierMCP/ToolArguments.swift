import Foundation
import MCP

/// A tool call's arguments: unknown names are refused with the field named; values convert to what the REST API
/// takes, and anything else is left for the API's own validation (which names the field the same way).
struct ToolArguments {
    let values: [String: Value]

    init(tool: String, values: [String: Value], allowed: Set<String>) throws {
        if let unknown = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIFailure(
                status: 400, code: "unknown_argument",
                message: "\(tool) has no argument '\(unknown)'; it takes \(allowed.sorted().joined(separator: ", ")).", field: unknown)
        }
        self.values = values
    }

    /// The arguments named, as JSON values (for a JSON body).
    func json(_ names: Set<String>) -> [String: Any] {
        values.filter { names.contains($0.key) }.mapValues(Self.jsonValue)
    }

    func string(_ name: String) throws -> String? {
        guard let value = values[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw Self.wrongType(name, "a string") }
        return text
    }

    func requiredString(_ name: String) throws -> String {
        guard let text = try string(name), !text.isEmpty else {
            throw APIFailure(status: 400, code: "missing_field", message: "\(name) is required.", field: name)
        }
        return text
    }

    func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let value = values[name], !value.isNull else { return fallback }
        guard let flag = value.boolValue else { throw Self.wrongType(name, "true or false") }
        return flag
    }

    func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let value = values[name], !value.isNull else { return fallback }
        guard let number = value.intValue ?? value.doubleValue.flatMap({ $0 == $0.rounded() ? Int(exactly: $0) : nil }),
            range.contains(number)
        else {
            throw APIFailure(
                status: 400, code: "invalid_value",
                message: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound).", field: name)
        }
        return number
    }

    /// A value as a multipart form field's text.
    func formText(_ name: String) throws -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case .int(let number)?: return String(number)
        case .double(let number)?: return number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .bool(let flag)?: return flag ? "true" : "false"
        default: throw Self.wrongType(name, "a string, number or boolean")
        }
    }

    /// Strings of an array argument (ids or base64 images).
    func strings(_ name: String) throws -> [Value] {
        guard let value = values[name], !value.isNull else { return [] }
        guard let items = value.arrayValue else { throw Self.wrongType(name, "an array") }
        return items
    }

    /// Image bytes from base64 or a data: URL (which the SDK decodes already).
    static func imageData(_ value: Value, field: String) throws -> Data {
        if case .data(_, let data) = value { return data }
        if let text = value.stringValue {
            let payload = text.hasPrefix("data:") ? String(text.drop { $0 != "," }.dropFirst()) : text
            if let data = Data(base64Encoded: payload, options: .ignoreUnknownCharacters), !data.isEmpty { return data }
        }
        throw APIFailure(
            status: 400, code: "invalid_image", message: "\(field) must be an image as base64 (PNG, JPEG or WebP).", field: field)
    }

    static func wrongType(_ name: String, _ expected: String) -> APIFailure {
        APIFailure(status: 400, code: "invalid_type", message: "\(name) must be \(expected).", field: name)
    }

    static func jsonValue(_ value: Value) -> Any {
        switch value {
        case .null: NSNull()
        case .bool(let flag): flag
        case .int(let number): number
        case .double(let number): number
        case .string(let text): text
        case .data(let mimeType, let data): data.dataURLEncoded(mimeType: mimeType)
        case .array(let items): items.map(jsonValue)
        case .object(let fields): fields.mapValues(jsonValue)
        }
    }
}
