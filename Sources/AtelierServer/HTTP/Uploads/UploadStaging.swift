import Foundation
import Vapor

/// Where an upload's file parts are written while its request is read: a folder per upload, mode 0700, under
/// `DATA_DIR/uploads` (never the world-readable system temp), part files 0600, written with throwing writes
/// (a full disk is a 507 for that request, not a crash).
struct UploadStaging: Sendable {
    var root: URL
    /// Opens a part file for writing. Tests pass one that fails like a full disk.
    var openWriter: @Sendable (URL) throws -> any UploadPartWriter = { try FileUploadWriter(url: $0) }

    /// A fresh, private folder for one upload.
    func makeDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if chmod(root.path, 0o700) != 0 { throw UploadWriteError(code: errno, path: root.path) }
        let directory = root.appendingPathComponent(UUID().uuidString)
        if mkdir(directory.path, 0o700) != 0 { throw UploadWriteError(code: errno, path: directory.path) }
        return directory
    }
}

/// One part file being written.
protocol UploadPartWriter: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func close() throws
}

/// A failed write of an upload (the disk is full, the folder cannot be made, …).
struct UploadWriteError: Error, CustomStringConvertible {
    var code: Int32
    var path: String
    var description: String { "\(path): \(String(cString: strerror(code)))" }
}

/// Writes with POSIX `write(2)`, retrying short writes and EINTR, and throws on any other result
/// (unlike `FileHandle.write(_:)`, which traps).
final class FileUploadWriter: UploadPartWriter {
    private var descriptor: Int32
    private let path: String

    init(url: URL) throws {
        path = url.path
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw UploadWriteError(code: errno, path: url.path) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = Foundation.write(descriptor, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw UploadWriteError(code: errno, path: path)
            }
            left -= written
            next += written
        }
    }

    func close() throws {
        guard descriptor >= 0 else { return }
        let result = Foundation.close(descriptor)
        descriptor = -1
        if result != 0 { throw UploadWriteError(code: errno, path: path) }
    }

    deinit { if descriptor >= 0 { _ = Foundation.close(descriptor) } }
}

extension Application {
    private struct UploadStagingKey: StorageKey { typealias Value = UploadStaging }

    /// `DATA_DIR/uploads` unless a test set another.
    var uploadStaging: UploadStaging {
        get {
            storage[UploadStagingKey.self]
                ?? UploadStaging(root: URL(fileURLWithPath: atelier.config.dataDirectory).appendingPathComponent("uploads"))
        }
        set { storage[UploadStagingKey.self] = newValue }
    }
}

extension APIError {
    /// 507: an upload or a job's inputs could not be written (the log has the details, the client does not).
    static func insufficientStorage(field: String?) -> APIError {
        APIError(
            status: .insufficientStorage, code: "insufficient_storage",
            message: "The server could not store the upload (its disk is full or failing); nothing was kept. Try again later.",
            field: field)
    }
}
