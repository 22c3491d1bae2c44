import Foundation

extension JSONEncoder {
    /// The encoder every API response uses: ISO-8601 dates, stable key order.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
