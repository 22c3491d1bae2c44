import Foundation
import NIOCore

/// Splits a byte stream into `\n`-terminated lines (a trailing `\r` dropped, empty lines skipped), holding at most
/// one unfinished line; a line longer than `maxLineBytes` is an error.
struct LineSplitter {
    struct LineTooLong: Error { var maxLineBytes: Int }

    let maxLineBytes: Int
    private var pending = Data()

    init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    mutating func feed(_ chunk: ByteBuffer) throws -> [Data] {
        var lines: [Data] = []
        var rest = chunk.readableBytesView[...]
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            pending.append(contentsOf: rest[..<newline])
            rest = rest[(newline + 1)...]
            if let line = take() { lines.append(line) }
        }
        pending.append(contentsOf: rest)
        if pending.count > maxLineBytes { throw LineTooLong(maxLineBytes: maxLineBytes) }
        return lines
    }

    mutating func finish() -> Data? { take() }

    private mutating func take() -> Data? {
        var line = pending
        pending = Data()
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line.isEmpty ? nil : line
    }
}
