import Foundation
import NIOCore

/// Pulls the (large) base64 string values of one key out of JSON as it arrives, decoding them straight into
/// the buffer that is handed on as `Data` (written in place: no intermediate buffer, no second copy; a large value
/// into a reused, page-aligned buffer from `DecodeBufferPool`), and keeps the rest of the document (with those
/// values emptied) for `JSONDecoder`. A response body is never held whole: while an image streams in, memory holds
/// its decoded bytes, one network chunk and the small rest of the JSON.
struct Base64FieldExtractor {
    struct Extracted {
        /// Each value of the key in document order; nil where it is not valid base64.
        var blobs: [Data?]
        /// The JSON with those values emptied (`""`).
        var rest: Data
    }

    private enum Mode { case json, string, blob }

    private let key: [UInt8]
    private let pool: DecodeBufferPool
    private var expectedBytes: Int?
    private var mode = Mode.json
    private var rest = Data()
    private var blobs: [Data?] = []
    // The string being read while it could still be `key`.
    private var token: [UInt8] = []
    private var tokenCanMatch = false
    private var escaped = false
    // After `key` was read: waiting for ':' and then the opening quote of a string value.
    private var awaitingValue = false
    private var sawColon = false
    // The value being decoded: `blob` is sized ahead (its tail not yet written), `blobCount` bytes are decoded.
    private var blob: DecodeBuffer?
    private var blobCount = 0
    private var blobValid = true
    private var quad: UInt32 = 0
    private var quadCount = 0
    private var padding = 0

    /// `expectedBytes` (the body's Content-Length, when known) sizes the first decoded buffer so it never grows.
    /// Large values are decoded into buffers from `pool`.
    init(key: String, expectedBytes: Int? = nil, pool: DecodeBufferPool = .shared) {
        self.key = Array(key.utf8)
        self.pool = pool
        self.expectedBytes = expectedBytes
    }

    /// Extracts from a complete document.
    static func extract(key: String, from buffer: ByteBuffer, pool: DecodeBufferPool = .shared) -> Extracted {
        var extractor = Base64FieldExtractor(key: key, expectedBytes: buffer.readableBytes, pool: pool)
        extractor.feed(buffer)
        return extractor.finish()
    }

    mutating func feed(_ chunk: ByteBuffer) {
        chunk.withUnsafeReadableBytes { feed($0) }
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var copyFrom = 0  // start of the bytes not yet copied to `rest`
        var index = 0
        while index < bytes.count {
            if mode == .blob && !escaped && quadCount == 0 && padding == 0 && blobValid {
                // The bulk of an image: whole groups of four plain symbols, decoded without the per-byte checks.
                reserve((bytes.count - index) / 4 * 3 + 2)
                index = decodeRun(bytes, from: index)
                if index >= bytes.count { break }
            }
            defer { index += 1 }
            let byte = bytes[index]
            switch mode {
            case .json:
                if byte == UInt8(ascii: "\"") {
                    if awaitingValue && sawColon {
                        rest.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[copyFrom...index]))
                        startBlob(remaining: bytes.count - index)
                        copyFrom = index + 1
                    } else {
                        mode = .string
                        token.removeAll(keepingCapacity: true)
                        tokenCanMatch = true
                    }
                    awaitingValue = false
                } else if awaitingValue {
                    if byte == UInt8(ascii: ":") && !sawColon {
                        sawColon = true
                    } else if !Self.isWhitespace(byte) {
                        awaitingValue = false  // not a string value (null, a number…)
                    }
                }
            case .string:
                if escaped {
                    escaped = false
                    tokenCanMatch = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    mode = .json
                    awaitingValue = tokenCanMatch && token == key
                    sawColon = false
                } else if tokenCanMatch {
                    if token.count < key.count { token.append(byte) } else { tokenCanMatch = false }
                }
            case .blob:
                if escaped {
                    escaped = false
                    if byte == UInt8(ascii: "/") { decodeSymbol(byte) } else { blobValid = false }
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    endBlob()
                    copyFrom = index  // the closing quote goes to `rest`
                } else {
                    decodeSymbol(byte)
                }
            }
        }
        if mode != .blob && copyFrom < bytes.count {
            rest.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[copyFrom...]))
        }
    }

    /// The values found and the rest. An unterminated value is dropped (the rest is then not valid JSON).
    mutating func finish() -> Extracted {
        blob = nil
        return Extracted(blobs: blobs, rest: rest)
    }

    private mutating func startBlob(remaining: Int) {
        mode = .blob
        escaped = false
        blobValid = true
        quad = 0
        quadCount = 0
        padding = 0
        // The first value is sized from the whole body (a pooled buffer is reused whole; a fresh allocation's pages
        // never written are not resident); later ones grow.
        blob = DecodeBuffer(pool: pool, atLeast: (expectedBytes ?? remaining) * 3 / 4)
        blobCount = 0
        expectedBytes = nil
    }

    /// Decodes groups of four base64 symbols from `start` until one group holds anything else (padding, an escape,
    /// the closing quote, an invalid byte) or fewer than four bytes are left; returns where it stopped.
    /// Written into `blob` after its `blobCount` decoded bytes (`reserve` made room for every whole group).
    private mutating func decodeRun(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let run = Base64Run.decode(bytes, from: start, into: blob!.bytes, at: blobCount)
        blobCount = run.written
        return run.index
    }

    /// Room in `blob` for `bytes` more decoded bytes; grows (doubling) only when the first size was short.
    private func reserve(_ bytes: Int) {
        blob!.reserve(blobCount + bytes, keeping: blobCount)
    }

    private mutating func append(_ byte: UInt8) {
        reserve(1)
        blob!.bytes[blobCount] = byte
        blobCount += 1
    }

    private mutating func endBlob() {
        let complete = quadCount == 0 && blobValid
        blobs.append(complete ? blob!.handOn(count: blobCount) : nil)  // the unwritten tail dropped (no copy)
        blob = nil
        blobCount = 0
        mode = .json
    }

    private mutating func decodeSymbol(_ byte: UInt8) {
        guard blobValid else { return }
        let value = Self.table[Int(byte)]
        if value == Self.pad {
            padding += 1
            guard quadCount >= 2, padding <= 2 else { blobValid = false; return }
        } else if value == Self.invalid || padding > 0 {
            blobValid = false
            return
        }
        quad = quad << 6 | UInt32(value == Self.pad ? 0 : value)
        quadCount += 1
        guard quadCount == 4 else { return }
        append(UInt8(truncatingIfNeeded: quad >> 16))
        if padding < 2 { append(UInt8(truncatingIfNeeded: quad >> 8)) }
        if padding < 1 { append(UInt8(truncatingIfNeeded: quad)) }
        quad = 0
        quadCount = 0
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static let invalid = Base64Run.invalid
    private static let pad = Base64Run.pad
    private static let table = Base64Run.symbols
}
