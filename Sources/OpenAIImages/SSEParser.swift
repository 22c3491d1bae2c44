import Foundation
import NIOCore

/// One server-sent event. `data` is the `data:` lines joined with "\n".
public struct SSEEvent: Sendable, Equatable {
    public var event: String?
    public var data: ByteBuffer
    public var id: String?

    public init(event: String? = nil, data: ByteBuffer, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }

    public var dataString: String { String(buffer: data) }
    /// The OpenAI-style end-of-stream marker `data: [DONE]`.
    public var isDone: Bool { data.readableBytes == 6 && dataString == "[DONE]" }
}

/// Incremental text/event-stream parser: feed ByteBuffer chunks as they arrive, get complete events back.
/// Handles LF, CRLF and CR line ends (also split across chunks), comments, `event:`/`data:`/`id:` fields,
/// multi-line data, and the `[DONE]` terminator (after which everything is ignored).
public struct SSEParser: Sendable {
    private var pending = ByteBuffer()
    /// Offset inside `pending` from which to look for the next line end (avoids rescanning large lines).
    private var scanned = 0
    private var event: String?
    private var id: String?
    private var data = ByteBuffer()
    private var hasData = false
    private var lastWasCR = false
    public private(set) var isFinished = false

    public init() {}

    /// Feeds one chunk; returns the events it completed (never the `[DONE]` marker).
    public mutating func feed(_ chunk: ByteBuffer) -> [SSEEvent] {
        guard !isFinished else { return [] }
        var chunk = chunk
        pending.writeBuffer(&chunk)
        var events: [SSEEvent] = []
        while !isFinished, let line = nextLine() {
            if let event = process(line) { events.append(event) }
        }
        compact()
        return events
    }

    /// Call at end of stream: dispatches a final event that was not followed by a blank line.
    public mutating func finish() -> [SSEEvent] {
        guard !isFinished else { return [] }
        var events: [SSEEvent] = []
        if pending.readableBytes > 0, let line = pending.readSlice(length: pending.readableBytes) {
            if let event = process(line) { events.append(event) }
        }
        if !isFinished, let event = dispatch() { events.append(event) }
        isFinished = true
        return events
    }

    private mutating func compact() {
        if pending.readerIndex > 64 * 1024 || pending.readableBytes == 0 {
            pending.discardReadBytes()
        }
    }

    /// The next complete line without its terminator, or nil if none is complete yet.
    private mutating func nextLine() -> ByteBuffer? {
        // A CR ending the previous line may be followed by LF at the start of this data.
        if lastWasCR, pending.readableBytes > 0 {
            if pending.getInteger(at: pending.readerIndex, as: UInt8.self) == UInt8(ascii: "\n") {
                pending.moveReaderIndex(forwardBy: 1)
            }
            lastWasCR = false
        }
        let found = pending.withUnsafeReadableBytes { Self.lineEnd(in: $0, from: scanned) }
        guard let (offset, terminator) = found else {
            scanned = pending.readableBytes
            return nil
        }
        let line = pending.readSlice(length: offset)!
        pending.moveReaderIndex(forwardBy: 1)
        scanned = 0
        if terminator == UInt8(ascii: "\r") {
            if pending.readableBytes > 0 {
                if pending.getInteger(at: pending.readerIndex, as: UInt8.self) == UInt8(ascii: "\n") {
                    pending.moveReaderIndex(forwardBy: 1)
                }
            } else {
                lastWasCR = true
            }
        }
        return line
    }

    /// The first LF or CR at or after `start` (memchr: a 4 MB image's line is scanned at memory speed; CR is only
    /// looked for before the LF, so many short lines stay linear).
    static func lineEnd(in bytes: UnsafeRawBufferPointer, from start: Int) -> (Int, UInt8)? {
        guard let base = bytes.baseAddress, start < bytes.count else { return nil }
        let lf = memchr(base + start, 0x0A, bytes.count - start).map { base.distance(to: UnsafeRawPointer($0)) }
        let crLimit = (lf ?? bytes.count) - start
        if crLimit > 0, let cr = memchr(base + start, 0x0D, crLimit) {
            return (base.distance(to: UnsafeRawPointer(cr)), 0x0D)
        }
        return lf.map { ($0, 0x0A) }
    }

    private mutating func process(_ line: ByteBuffer) -> SSEEvent? {
        var line = line
        if line.readableBytes == 0 { return dispatch() }
        if line.getInteger(at: line.readerIndex, as: UInt8.self) == UInt8(ascii: ":") { return nil }  // comment
        let colon = line.withUnsafeReadableBytes { $0.firstIndex(of: UInt8(ascii: ":")) }
        let field: String
        var value: ByteBuffer
        if let colon {
            field = line.readString(length: colon) ?? ""
            line.moveReaderIndex(forwardBy: 1)
            if line.getInteger(at: line.readerIndex, as: UInt8.self) == UInt8(ascii: " ") {
                line.moveReaderIndex(forwardBy: 1)
            }
            value = line
        } else {
            field = String(buffer: line)
            value = ByteBuffer()
        }
        switch field {
        case "event": event = String(buffer: value)
        case "data":
            if hasData {
                data.writeInteger(UInt8(ascii: "\n"))
                data.writeBuffer(&value)
            } else {
                data = value  // the usual one-line data: a slice of what arrived, not a copy
            }
            hasData = true
        case "id": id = String(buffer: value)
        default: break  // "retry" and unknown fields are ignored
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            event = nil
            data = ByteBuffer()
            hasData = false
        }
        guard hasData else { return nil }
        let result = SSEEvent(event: event, data: data, id: id)
        if result.isDone {
            isFinished = true
            return nil
        }
        return result
    }
}
