import Foundation
import NIOCore

/// Finds the (large) string values of one key in raw JSON bytes without parsing the whole document,
/// so several MB of base64 can be decoded straight into `Data` and the small rest parsed by `JSONDecoder`.
enum JSONBlobScanner {
    /// Byte ranges of the contents (between the quotes) of every string value whose key is `key`, at any depth.
    static func stringValueRanges(forKey key: String, in bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        let keyBytes = Array(key.utf8)
        var result: [Range<Int>] = []
        var index = 0
        let count = bytes.count
        var pendingKeyMatch = false  // the last string token was `key` and was followed by ':'
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let start = index + 1
                var end = start
                var escaped = false
                while end < count {
                    let b = bytes[end]
                    if escaped {
                        escaped = false
                    } else if b == UInt8(ascii: "\\") {
                        escaped = true
                    } else if b == UInt8(ascii: "\"") {
                        break
                    }
                    end += 1
                }
                guard end < count else { return result }  // unterminated string
                if pendingKeyMatch {
                    result.append(start..<end)
                    pendingKeyMatch = false
                } else if end - start == keyBytes.count {
                    var same = true
                    for offset in 0..<keyBytes.count where bytes[start + offset] != keyBytes[offset] {
                        same = false
                        break
                    }
                    if same {
                        var next = end + 1
                        while next < count, isWhitespace(bytes[next]) { next += 1 }
                        if next < count, bytes[next] == UInt8(ascii: ":") {
                            pendingKeyMatch = true
                            index = next + 1
                            continue
                        }
                    }
                }
                index = end + 1
                continue
            }
            if pendingKeyMatch && !isWhitespace(byte) {
                pendingKeyMatch = false  // the value is not a string (null, number…)
            }
            index += 1
        }
        return result
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Decodes the base64 in `range` (JSON string contents) into Data, without an intermediate copy when unescaped.
    static func decodeBase64(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Data? {
        guard let base = bytes.baseAddress else { return range.isEmpty ? Data() : nil }
        let slice = UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
        if slice.contains(UInt8(ascii: "\\")) {
            // JSON escapes such as "\/" (some encoders escape slashes): unescape into a copy first.
            var unescaped = [UInt8]()
            unescaped.reserveCapacity(slice.count)
            var escaped = false
            for b in slice {
                if escaped {
                    escaped = false
                    unescaped.append(b)
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else {
                    unescaped.append(b)
                }
            }
            return Data(base64Encoded: Data(unescaped))
        }
        let view = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: slice.baseAddress!), count: slice.count, deallocator: .none)
        return Data(base64Encoded: view)
    }

    /// The JSON with the given string values emptied (`""`), for decoding the small remainder.
    static func blanking(_ ranges: [Range<Int>], in bytes: UnsafeRawBufferPointer) -> Data {
        let removed = ranges.reduce(0) { $0 + $1.count }
        var out = Data(capacity: bytes.count - removed)
        var cursor = 0
        for range in ranges {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[cursor..<range.lowerBound]))
            cursor = range.upperBound
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[cursor..<bytes.count]))
        return out
    }

    struct Extracted {
        var blobs: [Data?]
        var rest: Data
    }

    /// Extracts every `key` string value as decoded base64 (nil where it is not valid base64) plus the rest.
    static func extract(key: String, from buffer: ByteBuffer) -> Extracted {
        buffer.withUnsafeReadableBytes { bytes in
            let ranges = stringValueRanges(forKey: key, in: bytes)
            let blobs = ranges.map { decodeBase64(bytes, range: $0) }
            return Extracted(blobs: blobs, rest: blanking(ranges, in: bytes))
        }
    }
}
