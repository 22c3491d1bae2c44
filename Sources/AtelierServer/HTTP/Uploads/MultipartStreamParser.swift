#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import NIOCore

/// An incremental multipart/form-data parser (RFC 7578) that finds boundaries with `memchr`/`memcmp`,
/// so large file parts move at memory speed even in debug builds. Body bytes are handed on as they arrive,
/// except the few at the end of a chunk that could be the start of a boundary.
struct MultipartStreamParser {
    enum Event {
        case partBegin(headers: [(name: String, value: String)])
        case body(ByteBuffer)
        case partEnd
    }

    enum ParseError: Error, CustomStringConvertible {
        case missingBoundary, badHeaders, unexpectedEnd
        var description: String {
            switch self {
            case .missingBoundary: "the body does not start with the boundary"
            case .badHeaders: "a part's headers are malformed"
            case .unexpectedEnd: "the body ended before the closing boundary"
            }
        }
    }

    private enum State { case preamble, headers, body, done }

    private let delimiter: [UInt8]  // CRLF "--" boundary
    private var pending = ByteBuffer()
    private var state = State.preamble
    static let maxHeaderBytes = 16 * 1024

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    var isFinished: Bool { state == .done }

    /// Feeds a chunk; returns the events it completes.
    mutating func feed(_ chunk: ByteBuffer) throws -> [Event] {
        var chunk = chunk
        pending.writeBuffer(&chunk)
        var events: [Event] = []
        while true {
            switch state {
            case .preamble:
                // The body starts with "--boundary" (no leading CRLF); accept an optional preamble before CRLF--boundary.
                let first = Array(delimiter.dropFirst(2))
                guard pending.readableBytes >= first.count + 2 else { return events }
                guard let index = find(first, in: pending) else {
                    if pending.readableBytes > Self.maxHeaderBytes { throw ParseError.missingBoundary }
                    return events
                }
                guard pending.readableBytes >= index + first.count + 2 else { return events }
                pending.moveReaderIndex(forwardBy: index + first.count)
                guard consumeLineEnd() else { throw ParseError.missingBoundary }
                state = .headers
            case .headers:
                guard let end = find(Array("\r\n\r\n".utf8), in: pending) else {
                    if pending.readableBytes > Self.maxHeaderBytes { throw ParseError.badHeaders }
                    return events
                }
                let text = pending.readString(length: end) ?? ""
                pending.moveReaderIndex(forwardBy: 4)
                events.append(.partBegin(headers: try Self.parseHeaders(text)))
                state = .body
            case .body:
                if let index = find(delimiter, in: pending) {
                    guard pending.readableBytes >= index + delimiter.count + 2 else { return events }
                    if index > 0, let bytes = pending.readSlice(length: index) { events.append(.body(bytes)) }
                    pending.moveReaderIndex(forwardBy: delimiter.count)
                    events.append(.partEnd)
                    let next = pending.getBytes(at: pending.readerIndex, length: 2) ?? []
                    if next == [45, 45] {  // "--": the closing boundary
                        state = .done
                        pending.clear()
                        return events
                    }
                    guard consumeLineEnd() else { throw ParseError.badHeaders }
                    state = .headers
                } else {
                    let safe = pending.readableBytes - (delimiter.count - 1)
                    if safe > 0, let bytes = pending.readSlice(length: safe) { events.append(.body(bytes)) }
                    pending.discardReadBytes()
                    return events
                }
            case .done:
                pending.clear()
                return events
            }
        }
    }

    private mutating func consumeLineEnd() -> Bool {
        guard pending.getBytes(at: pending.readerIndex, length: 2) == [13, 10] else { return false }
        pending.moveReaderIndex(forwardBy: 2)
        return true
    }

    /// Offset of `needle` in the readable bytes of `buffer`.
    private func find(_ needle: [UInt8], in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { haystack -> Int? in
            guard let base = haystack.baseAddress, haystack.count >= needle.count else { return nil }
            let first = Int32(needle[0])
            var offset = 0
            let last = haystack.count - needle.count
            return needle.withUnsafeBytes { pattern -> Int? in
                while offset <= last {
                    guard let hit = memchr(base + offset, first, last - offset + 1) else { return nil }
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, pattern.baseAddress!, needle.count) == 0 { return position }
                    offset = position + 1
                }
                return nil
            }
        }
    }

    static func parseHeaders(_ text: String) throws -> [(name: String, value: String)] {
        try text.split(separator: "\r\n", omittingEmptySubsequences: true).map { line in
            guard let colon = line.firstIndex(of: ":") else { throw ParseError.badHeaders }
            return (
                line[..<colon].trimmingCharacters(in: .whitespaces).lowercased(),
                line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            )
        }
    }
}
