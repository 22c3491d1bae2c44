import Crypto
import Foundation
import Vapor

/// A multipart/form-data request read as a stream: text fields kept in memory (bounded), file parts written
/// straight to temporary files, so a 16 × 20 MB upload never sits in memory at once.
final class MultipartUpload: @unchecked Sendable {
    struct File {
        var field: String
        var filename: String
        var declaredType: String?
        var url: URL
        var size: Int
        var sha256: String
        /// Position of the part in the body, so files and id fields keep the order they were sent in.
        var sequence: Int
    }

    static let maxFieldBytes = 256 * 1024

    private(set) var fields: [String: [String]] = [:]
    /// Part positions of each field's values, parallel to `fields`.
    private(set) var fieldSequences: [String: [Int]] = [:]
    private var partCount = 0
    private(set) var files: [File] = []
    let directory: URL

    private init(directory: URL) { self.directory = directory }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Reads the whole body. Throws a 4xx `APIError` naming the part that broke a limit.
    static func read(_ req: Request, maxFileBytes: Int, maxTotalBytes: Int) async throws -> MultipartUpload {
        guard let boundary = req.headers.contentType?.parameters["boundary"],
            req.headers.contentType?.subType == "form-data"
        else {
            throw APIError(
                status: .badRequest, code: "expected_multipart",
                message: "Send the edit as multipart/form-data (fields plus image files).")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-upload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let upload = MultipartUpload(directory: directory)
        let state = PartState(upload: upload, maxFileBytes: maxFileBytes)
        var parser = MultipartStreamParser(boundary: boundary)
        var total = 0
        for try await chunk in req.body {
            total += chunk.readableBytes
            guard total <= maxTotalBytes else {
                throw APIError(
                    status: .payloadTooLarge, code: "request_too_large",
                    message: "The request is larger than \(maxTotalBytes / 1_048_576) MB; send fewer or smaller images.")
            }
            let events: [MultipartStreamParser.Event]
            do { events = try parser.feed(chunk) } catch {
                throw APIError.invalid(nil, "The multipart body is malformed: \(error)", code: "invalid_multipart")
            }
            for event in events {
                switch event {
                case .partBegin(let headers): for (name, value) in headers { state.header(name, value) }
                case .body(var bytes): state.body(&bytes)
                case .partEnd: state.complete()
                }
            }
            if let failure = state.failure { throw failure }
        }
        guard parser.isFinished else {
            throw APIError.invalid(nil, "The multipart body ended before its closing boundary.", code: "invalid_multipart")
        }
        return upload
    }

    func field(_ name: String) -> String? { fields[name]?.last }
    func fieldValues(_ name: String) -> [String] { fields[name] ?? [] }

    /// Values of the named fields with their part positions.
    func sequencedValues(_ names: [String]) -> [(sequence: Int, value: String)] {
        names.flatMap { name in Array(zip(fieldSequences[name] ?? [], fields[name] ?? [])) }.map { ($0.0, $0.1) }
    }

    /// Parser callbacks for the part being read.
    private final class PartState {
        let upload: MultipartUpload
        let maxFileBytes: Int
        var headers: [String: String] = [:]
        var handle: FileHandle?
        var fileURL: URL?
        var size = 0
        var hasher = SHA256()
        var text = Data()
        var failure: APIError?

        init(upload: MultipartUpload, maxFileBytes: Int) {
            self.upload = upload
            self.maxFileBytes = maxFileBytes
        }

        private var disposition: (name: String?, filename: String?) {
            let value = headers["content-disposition"] ?? ""
            return (Self.parameter("name", in: value), Self.parameter("filename", in: value))
        }

        func header(_ name: String, _ value: String) { headers[name.lowercased()] = value }

        func body(_ buffer: inout ByteBuffer) {
            guard failure == nil else { return }
            let count = buffer.readableBytes
            size += count
            let (name, filename) = disposition
            if filename != nil {
                guard size <= maxFileBytes else {
                    failure = APIError(
                        status: .payloadTooLarge, code: "file_too_large",
                        message: "The file in '\(name ?? "?")' is larger than \(maxFileBytes / 1_000_000) MB.",
                        field: name)
                    return
                }
                if handle == nil {
                    let url = upload.directory.appendingPathComponent("part-\(upload.files.count)")
                    FileManager.default.createFile(atPath: url.path, contents: nil)
                    fileURL = url
                    handle = try? FileHandle(forWritingTo: url)
                }
                buffer.withUnsafeReadableBytes { raw in
                    hasher.update(bufferPointer: raw)
                    handle?.write(Data(raw))
                }
                buffer.moveReaderIndex(forwardBy: count)
            } else {
                guard size <= MultipartUpload.maxFieldBytes else {
                    failure = APIError.invalid(name, "The field '\(name ?? "?")' is too long.", code: "field_too_large")
                    return
                }
                text.append(contentsOf: buffer.readableBytesView)
                buffer.moveReaderIndex(forwardBy: count)
            }
        }

        func complete() {
            defer {
                headers = [:]
                handle = nil
                fileURL = nil
                size = 0
                hasher = SHA256()
                text = Data()
            }
            guard failure == nil, let name = disposition.name else { return }
            if let filename = disposition.filename {
                try? handle?.close()
                let url = fileURL ?? upload.directory.appendingPathComponent("part-\(upload.files.count)")
                if fileURL == nil { FileManager.default.createFile(atPath: url.path, contents: nil) }
                let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
                upload.files.append(File(
                    field: name, filename: filename, declaredType: headers["content-type"], url: url, size: size,
                    sha256: digest, sequence: upload.partCount))
            } else {
                upload.fields[name, default: []].append(String(decoding: text, as: UTF8.self))
                upload.fieldSequences[name, default: []].append(upload.partCount)
            }
            upload.partCount += 1
        }

        static func parameter(_ key: String, in header: String) -> String? {
            for piece in header.split(separator: ";") {
                let pair = piece.trimmingCharacters(in: .whitespaces)
                guard pair.lowercased().hasPrefix(key + "=") else { continue }
                var value = String(pair.dropFirst(key.count + 1))
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                return value
            }
            return nil
        }
    }
}
