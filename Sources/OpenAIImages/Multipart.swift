import Foundation
import NIOCore

/// Builds a multipart/form-data body the way the OpenAI SDK (httpx) does: text fields first, then files.
struct MultipartBody {
    let boundary: String
    private var parts: [(name: String, value: Part)] = []

    enum Part {
        case text(String)
        case file(ImagesFile)
    }

    init(boundary: String = MultipartBody.randomBoundary()) {
        self.boundary = boundary
    }

    static func randomBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        return "atelier-\(hex)"
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func addText(_ name: String, _ value: String) { parts.append((name, .text(value))) }
    mutating func addFile(_ name: String, _ file: ImagesFile) { parts.append((name, .file(file))) }

    static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "%22")
            .replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
    }

    /// The whole body in one buffer (files are copied exactly once).
    func encode() -> ByteBuffer {
        let fileBytes = parts.reduce(0) { total, part in
            if case .file(let file) = part.value { return total + file.data.count }
            return total
        }
        var buffer = ByteBufferAllocator().buffer(capacity: fileBytes + parts.count * 256 + 64)
        for (name, part) in parts {
            buffer.writeString("--\(boundary)\r\n")
            switch part {
            case .text(let value):
                buffer.writeString("Content-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n")
                buffer.writeString(value)
            case .file(let file):
                buffer.writeString(
                    "Content-Disposition: form-data; name=\"\(Self.quoted(name))\"; filename=\"\(Self.quoted(file.filename))\"\r\n")
                buffer.writeString("Content-Type: \(file.contentType)\r\n\r\n")
                buffer.writeBytes(file.data)
            }
            buffer.writeString("\r\n")
        }
        buffer.writeString("--\(boundary)--\r\n")
        return buffer
    }
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
    static func normalized(_ file: ImagesFile, fallbackName: String) -> ImagesFile {
        var file = file
        let declared = file.contentType.lowercased().split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let valid: Set<String> = ["image/png", "image/jpeg", "image/webp"]
        let type =
            sniff(file.data) ?? (declared == "image/jpg" ? "image/jpeg" : declared).flatMap { valid.contains($0) ? $0 : nil }
            ?? fromFilename(file.filename) ?? "image/png"
        file.contentType = type
        if file.filename.isEmpty { file.filename = "\(fallbackName).\(fileExtension(type))" }
        return file
    }
}
