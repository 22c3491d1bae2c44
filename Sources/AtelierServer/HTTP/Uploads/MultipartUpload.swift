import AtelierCore
import Crypto
import Foundation
import Vapor

/// A multipart/form-data request read as a stream: text fields kept in memory (bounded in number and bytes),
/// file parts written straight to private staging files under `DATA_DIR/uploads` (`UploadStaging`), so a
/// 16 × 20 MB upload never sits in memory at once. Any failure removes everything staged so far.
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
    /// Parts of any kind (16 images, a mask, markup and every edit field fit several times over).
    static let maxParts = 64
    static let maxTextFields = 40
    /// All text fields together.
    static let maxTextBytes = 1_048_576

    private(set) var fields: [String: [String]] = [:]
    /// Part positions of each field's values, parallel to `fields`.
    private(set) var fieldSequences: [String: [Int]] = [:]
    private var partCount = 0
    private var textFieldCount = 0
    private var textBytes = 0
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
        let staging = req.application.uploadStaging
        let directory: URL
        do { directory = try staging.makeDirectory() } catch { throw insufficientStorage(error, field: nil, req: req) }
        let upload = MultipartUpload(directory: directory)
        let state = PartState(upload: upload, maxFileBytes: maxFileBytes, staging: staging)
        do {
            try await read(req, into: state, boundary: boundary, maxTotalBytes: maxTotalBytes)
        } catch {
            state.discard()
            try? FileManager.default.removeItem(at: directory)
            if let failure = error as? UploadWriteError { throw insufficientStorage(failure, field: state.failedField, req: req) }
            throw error
        }
        return upload
    }

    private static func read(_ req: Request, into state: PartState, boundary: String, maxTotalBytes: Int) async throws {
        var parser = MultipartStreamParser(boundary: boundary)
        var total = 0
        let timeout = req.atelier.config.access.requestBodyTimeoutSeconds
        let deadline = ContinuousClock.now + .seconds(timeout)
        for try await chunk in req.body {
            guard ContinuousClock.now <= deadline else {
                throw APIError(
                    status: .requestTimeout, code: "request_timeout",
                    message: "The upload did not arrive within \(timeout) seconds; send it again on a faster connection.")
            }
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
                case .body(var bytes): try state.body(&bytes)
                case .partEnd: try state.complete()
                }
            }
            if let failure = state.failure { throw failure }
        }
        guard parser.isFinished else {
            throw APIError.invalid(nil, "The multipart body ended before its closing boundary.", code: "invalid_multipart")
        }
    }

    /// 507: the upload could not be written; the details go to the log, not to the client.
    private static func insufficientStorage(_ error: any Error, field: String?, req: Request) -> APIError {
        req.logger.error("could not stage an upload", metadata: ["error": "\(error)"])
        return APIError.insufficientStorage(field: field)
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
        let staging: UploadStaging
        var headers: [String: String] = [:]
        var writer: (any UploadPartWriter)?
        var fileURL: URL?
        /// The field whose file could not be written.
        var failedField: String?
        var size = 0
        var hasher = SHA256()
        var text = Data()
        var failure: APIError?

        init(upload: MultipartUpload, maxFileBytes: Int, staging: UploadStaging) {
            self.upload = upload
            self.maxFileBytes = maxFileBytes
            self.staging = staging
        }

        /// Closes the part being written (the caller removes the folder).
        func discard() {
            try? writer?.close()
            writer = nil
        }

        private var disposition: (name: String?, filename: String?) {
            let value = headers["content-disposition"] ?? ""
            return (Self.parameter("name", in: value), Self.parameter("filename", in: value))
        }

        func header(_ name: String, _ value: String) { headers[name.lowercased()] = value }

        func body(_ buffer: inout ByteBuffer) throws {
            guard failure == nil else { return }
            let count = buffer.readableBytes
            size += count
            let (name, filename) = disposition
            if size == count { checkPartLimits(name: name, isFile: filename != nil) }
            guard failure == nil else { return }
            if filename != nil {
                guard size <= maxFileBytes else {
                    failure = APIError(
                        status: .payloadTooLarge, code: "file_too_large",
                        message: "The file in '\(name ?? "?")' is larger than \(maxFileBytes / 1_000_000) MB.",
                        field: name)
                    return
                }
                failedField = name
                let writer = try self.writer ?? openPart()
                try buffer.withUnsafeReadableBytes { raw in
                    hasher.update(bufferPointer: raw)
                    try writer.write(raw)
                }
                failedField = nil
                buffer.moveReaderIndex(forwardBy: count)
            } else {
                guard size <= MultipartUpload.maxFieldBytes else {
                    failure = APIError.invalid(name, "The field '\(name ?? "?")' is too long.", code: "field_too_large")
                    return
                }
                upload.textBytes += count
                guard upload.textBytes <= MultipartUpload.maxTextBytes else {
                    failure = APIError(
                        status: .payloadTooLarge, code: "fields_too_large",
                        message:
                            "The text fields together are larger than \(MultipartUpload.maxTextBytes / 1024) KB (at '\(name ?? "?")').",
                        field: name)
                    return
                }
                text.append(contentsOf: buffer.readableBytesView)
                buffer.moveReaderIndex(forwardBy: count)
            }
        }

        /// The number of parts and of text fields, checked when a part's first bytes arrive.
        private func checkPartLimits(name: String?, isFile: Bool) {
            guard failure == nil else { return }
            if upload.partCount >= MultipartUpload.maxParts {
                failure = APIError(
                    status: .payloadTooLarge, code: "too_many_parts",
                    message: "The upload has more than \(MultipartUpload.maxParts) parts (at '\(name ?? "?")').", field: name)
            } else if !isFile && upload.textFieldCount >= MultipartUpload.maxTextFields {
                failure = APIError.invalid(
                    name, "The upload has more than \(MultipartUpload.maxTextFields) text fields (at '\(name ?? "?")').",
                    code: "too_many_fields")
            }
        }

        private func openPart() throws -> any UploadPartWriter {
            let url = upload.directory.appendingPathComponent("part-\(upload.files.count)")
            let writer = try staging.openWriter(url)
            fileURL = url
            self.writer = writer
            return writer
        }

        func complete() throws {
            if size == 0 { checkPartLimits(name: disposition.name, isFile: disposition.filename != nil) }
            defer {
                headers = [:]
                writer = nil
                fileURL = nil
                size = 0
                hasher = SHA256()
                text = Data()
            }
            guard failure == nil, let name = disposition.name else { return }
            if let filename = disposition.filename {
                failedField = name
                try (writer ?? openPart()).close()
                failedField = nil
                let url = fileURL ?? upload.directory.appendingPathComponent("part-\(upload.files.count)")
                let digest = hasher.finalize().hexString
                upload.files.append(
                    File(
                        field: name, filename: filename, declaredType: headers["content-type"], url: url, size: size,
                        sha256: digest, sequence: upload.partCount))
            } else {
                upload.textFieldCount += 1
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
