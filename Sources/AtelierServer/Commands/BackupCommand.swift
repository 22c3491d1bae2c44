import AtelierCore
import Fluent
import SQLKit
import Vapor

/// `atelier backup PATH`: a consistent copy of a running SQLite instance into the new folder PATH:
/// `atelier.sqlite` (SQLite's `VACUUM INTO`: one read transaction, so a snapshot while jobs are written),
/// `blobs/` (every image the snapshot can reference: blobs are immutable once written, and each is written before
/// its row commits) and `manifest.json`. Written into a hidden sibling folder and renamed into place last, so PATH
/// is either a whole backup or absent. PostgreSQL + S3 are backed up with their own tools (docs/DEPLOY.md).
struct BackupCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "path", help: "A new folder for the backup (it must not exist yet)")
        var path: String
    }

    /// The SQLite file, when it did not exist before start-up: nothing to back up.
    var missingDatabase: String?

    var help: String { "Backs up a (running) SQLite instance: the database and its images, into a new folder." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let config = app.atelier.config
        guard case .sqliteFile = config.database else { throw OperatorError(BackupLayout.notSQLite) }
        if let path = missingDatabase { throw OperatorError("no database at \(path): check DATA_DIR / DATABASE_URL") }
        let target = URL(fileURLWithPath: signature.path).standardizedFileURL
        let staging = try BackupLayout.staging(for: target)
        let manifest: BackupManifest
        do {
            manifest = try await write(app, into: staging)
            try FileManager.default.moveItem(at: staging, to: target)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
        let size = String(format: "%.1f MB", Double(BackupLayout.size(of: target)) / 1e6)
        let missing = manifest.missing.isEmpty ? "" : "; \(manifest.missing.count) image file(s) were deleted while it ran"
        context.console.print("Backed up to \(target.path): database snapshot and \(manifest.files) image file(s) (\(size))\(missing).")
    }

    /// The snapshot, the image files it can refer to, and the manifest, into `folder`.
    private func write(_ app: Application, into folder: URL) async throws -> BackupManifest {
        let sql = app.db.sql
        try await sql.raw("VACUUM INTO \(bind: folder.appendingPathComponent(BackupLayout.database).path)").run()
        // Every row in the snapshot is also in the live table now (or was deleted since, with its files), so
        // copying the live table's keys copies all the snapshot needs; newer images only add unused files.
        let rows = try await sql.raw("SELECT blob_key, thumbnail_key FROM images").all()
        var keys: [(key: String, optional: Bool)] = []
        for row in rows {
            keys.append((try row.decode(column: "blob_key", as: String.self), false))
            if let thumb = try row.decode(column: "thumbnail_key", as: String?.self) { keys.append((thumb, true)) }
        }
        let copy = try await BlobCopier(blobs: app.atelier.blobs).export(keys, into: folder.appendingPathComponent(BackupLayout.blobs))
        let manifest = BackupManifest(
            format: 1, createdAt: Date().timeIntervalSince1970, version: StatusController.version,
            images: rows.count, files: copy.files, bytes: copy.bytes, missing: copy.missing)
        try manifest.write(to: folder.appendingPathComponent(BackupLayout.manifest))
        return manifest
    }
}

/// What `manifest.json` says about a backup.
struct BackupManifest: Codable {
    var format: Int
    var createdAt: Double
    var version: String
    /// Image rows when the files were copied (at least the snapshot's).
    var images: Int
    var files: Int
    var bytes: Int
    /// Image files (not thumbnails, which are remade on demand) deleted between the snapshot and their copy.
    var missing: [String]

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url)
    }
}

/// The backup folder's names and the checks both commands share.
enum BackupLayout {
    static let database = "atelier.sqlite"
    static let blobs = "blobs"
    static let manifest = "manifest.json"
    static let notSQLite =
        "backup and restore handle SQLite with local or S3 blobs; with DATABASE_URL=postgres:// use "
        + "pg_dump/pg_restore (and the bucket's versioning or replication for S3 blobs): see docs/DEPLOY.md"

    /// A new hidden folder next to `target`, renamed to it once the backup is whole.
    static func staging(for target: URL) throws -> URL {
        let files = FileManager.default
        guard !files.fileExists(atPath: target.path) else {
            throw OperatorError("\(target.path) exists: give a new folder for the backup")
        }
        let parent = target.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        guard files.fileExists(atPath: parent.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw OperatorError("\(parent.path) is not a folder: create it first")
        }
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do { try files.createDirectory(at: staging, withIntermediateDirectories: false) } catch {
            throw OperatorError("cannot write in \(parent.path): \(error.localizedDescription)")
        }
        return staging
    }

    static func size(of folder: URL) -> Int {
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey])
        var total = 0
        while let url = walker?.nextObject() as? URL {
            total += (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        }
        return total
    }
}
