import Foundation

/// The `job` member of a stored event's JSON (`{"image":…,"job":{…},"job_id":…,"seq":…,"type":…}`), as the exact
/// bytes the publisher encoded: `?wait` answers with the terminal event's job without reading the job again.
enum EventJobJSON {
    /// The raw value of the top-level key `job`, or nil if there is none.
    static func job(in payload: String) -> Substring.UTF8View? {
        let bytes = payload.utf8
        var depth = 0
        var inString = false
        var escaped = false
        var keyStart: String.Index?
        var lastKey: Substring?
        var valueStart: String.Index?
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1, let start = keyStart { lastKey = payload[start..<index] }
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                    keyStart = depth == 1 ? bytes.index(after: index) : nil
                case UInt8(ascii: ":") where depth == 1 && lastKey == "job":
                    valueStart = bytes.index(after: index)
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 1, let start = valueStart {
                        return payload[start...index].utf8
                    }
                case UInt8(ascii: ","):
                    if depth == 1 { lastKey = nil }
                default: break
                }
            }
            index = bytes.index(after: index)
        }
        return nil
    }
}
