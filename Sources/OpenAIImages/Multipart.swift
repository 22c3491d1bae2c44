import AtelierCore
import Foundation
import NIOCore

/// Builds a multipart/form-data body the way the OpenAI SDK (httpx) does: text fields first, then files.
struct MultipartBody {
    let boundary: String
    private var parts: [(name: String, value: Part)] = []

    enum Part {
        case text(String)
        case file(ImageUpload)
    }

    init(boundary: String = MultipartBody.randomBoundary()) {
        self.boundary = boundary
    }

    static func randomBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
        return "atelier-\(hex)"
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func addText(_ name: String, _ value: String) { parts.append((name, .text(value))) }
    mutating func addFile(_ name: String, _ file: ImageUpload) { parts.append((name, .file(file))) }

    static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "%22")
            .replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
    }

    /// The part headers, each file's bytes and the separators, in order: what `encode` and `stream` write.
    enum Piece: Sendable {
        case text(String)
        case bytes(ImageBytes)
    }

    var pieces: [Piece] {
        var pieces: [Piece] = []
        for (name, part) in parts {
            switch part {
            case .text(let value):
                pieces.append(.text("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n\(value)\r\n"))
            case .file(let file):
                pieces.append(
                    .text(
                        "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"; "
                            + "filename=\"\(Self.quoted(file.filename))\"\r\nContent-Type: \(file.contentType)\r\n\r\n"))
                pieces.append(.bytes(file.bytes))
                pieces.append(.text("\r\n"))
            }
        }
        pieces.append(.text("--\(boundary)--\r\n"))
        return pieces
    }

    /// The body's exact length (its Content-Length).
    var byteCount: Int {
        pieces.reduce(0) { total, piece in
            switch piece {
            case .text(let text): total + text.utf8.count
            case .bytes(let bytes): total + bytes.byteCount
            }
        }
    }

    /// The whole body in one buffer (files are read once); for small bodies and tests.
    func encode() throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: byteCount)
        for piece in pieces {
            switch piece {
            case .text(let text): buffer.writeString(text)
            case .bytes(let bytes): buffer.writeBytes(try bytes.load())
            }
        }
        return buffer
    }

    /// The body as chunks produced when the connection asks for them: files are read 64 KiB at a time, so
    /// sending 16 large inputs holds about one chunk, not the inputs.
    func stream() -> MultipartStream { MultipartStream(pieces: pieces) }
}

/// A multipart body read piece by piece on demand (the HTTP client pulls the next chunk when it can send it).
struct MultipartStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let pieces: [MultipartBody.Piece]
    static let chunkSize = 64 << 10

    struct AsyncIterator: AsyncIteratorProtocol {
        var pieces: [MultipartBody.Piece]
        var index = 0
        var offset = 0
        var handle: FileHandle?

        mutating func next() async throws -> ByteBuffer? {
            while index < pieces.count {
                switch pieces[index] {
                case .text(let text):
                    index += 1
                    return ByteBuffer(string: text)
                case .bytes(.data(let data)):
                    guard offset < data.count else { break }
                    let end = Swift.min(offset + MultipartStream.chunkSize, data.count)
                    defer { offset = end }
                    return ByteBuffer(bytes: data[data.startIndex + offset..<data.startIndex + end])
                case .bytes(.file(let url, let count)):
                    if handle == nil { handle = try FileHandle(forReadingFrom: url) }
                    if offset < count, let chunk = try handle?.read(upToCount: Swift.min(MultipartStream.chunkSize, count - offset)),
                        !chunk.isEmpty
                    {
                        offset += chunk.count
                        return ByteBuffer(bytes: chunk)
                    }
                    try handle?.close()
                    handle = nil
                    // The length was promised in Content-Length: a file that changed size must fail the request.
                    guard offset == count else { throw MultipartFileChanged(url: url, expected: count, read: offset) }
                }
                index += 1
                offset = 0
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pieces: pieces) }
}

struct MultipartFileChanged: Error {
    let url: URL
    let expected: Int
    let read: Int
}

enum ImageMIME {
    /// The image type from the first bytes, if png, jpeg or webp.
    static func sniff(_ data: Data) -> String? {
        let header = [UInt8](data.prefix(12))
        if header.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if header.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if header.count >= 12, header.starts(with: Array("RIFF".utf8)), Array(header[8..<12]) == Array("WEBP".utf8) {
            return "image/webp"
        }
        return nil
    }

    static func fromFilename(_ name: String) -> String? {
        switch (name as NSString).pathExtension.lowercased() {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        default: nil
        }
    }

    static func fileExtension(_ contentType: String) -> String {
        switch contentType {
        case "image/jpeg": "jpg"
        case "image/webp": "webp"
        default: "png"
        }
    }

    /// Never octet-stream: the bytes decide, then a valid declared type, then the file name.
    static func normalized(_ file: ImageUpload, fallbackName: String) -> ImageUpload {
        var file = file
        let declared = file.contentType.lowercased().split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let valid: Set<String> = ["image/png", "image/jpeg", "image/webp"]
        let type =
            sniff(file.bytes.prefix(12)) ?? (declared == "image/jpg" ? "image/jpeg" : declared).flatMap { valid.contains($0) ? $0 : nil }
            ?? fromFilename(file.filename) ?? "image/png"
        file.contentType = type
        if file.filename.isEmpty { file.filename = "\(fallbackName).\(fileExtension(type))" }
        return file
    }
}
