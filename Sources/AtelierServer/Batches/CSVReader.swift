/// Reads CSV text (RFC 4180) one record at a time: fields separated by commas, records by CRLF or LF, fields in
/// double quotes may hold commas, line breaks and doubled quotes (`""`). Lazy, so a large upload is walked
/// without building every row at once.
struct CSVReader: IteratorProtocol, Sequence {
    enum Problem: Error, Equatable {
        /// A quote opened in the record starting on this line (1-based) is never closed.
        case unterminatedQuote(line: Int)
        /// Text after a closing quote, before the next comma or line break.
        case textAfterQuote(line: Int)
    }

    private let bytes: [UInt8]
    private var position = 0
    private var line = 1
    /// Set when the text is not valid CSV; iteration stops there.
    private(set) var problem: Problem?

    init(_ text: String) {
        var text = text
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }  // a byte-order mark some spreadsheets write
        bytes = Array(text.utf8)
    }

    /// The line (1-based) the next record starts on.
    var currentLine: Int { line }

    mutating func next() -> [String]? {
        guard problem == nil, position < bytes.count else { return nil }
        let start = line
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var afterQuote = false
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if position < bytes.count && bytes[position] == UInt8(ascii: "\"") {
                        field.append(byte)
                        position += 1
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                afterQuote = false
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                if byte == UInt8(ascii: "\r") && position < bytes.count && bytes[position] == UInt8(ascii: "\n") { position += 1 }
                line += 1
                fields.append(String(decoding: field, as: UTF8.self))
                return fields
            case UInt8(ascii: "\"") where field.isEmpty && !afterQuote:
                quoted = true
            default:
                if afterQuote {
                    problem = .textAfterQuote(line: line)
                    return nil
                }
                field.append(byte)
            }
        }
        if quoted {
            problem = .unterminatedQuote(line: start)
            return nil
        }
        fields.append(String(decoding: field, as: UTF8.self))
        return fields
    }
}
