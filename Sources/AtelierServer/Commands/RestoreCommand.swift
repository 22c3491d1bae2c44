import AtelierCore
import ObjectStorage
import Vapor

/// `atelier restore PATH`: puts a backup made by `atelier backup` into an empty DATA_DIR (or the configured SQLite
/// file and bucket): images first, then the database file under a temporary name, renamed into place last, so an
/// interrupted restore leaves no database and can simply be run again. Refuses to overwrite a database. Runs before
/// any database connection is opened (it is registered without `configure`).
struct RestoreCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "path", help: "A folder written by `atelier backup`")
        var path: String
    }

    let config: AtelierConfig

    var help: String { "Restores a backup from `atelier backup` into an empty DATA_DIR (stop Atelier first)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard case .sqliteFile(let databasePath) = config.database else { throw OperatorError(BackupLayout.notSQLite) }
        let source = URL(fileURLWithPath: signature.path).standardizedFileURL
        let files = FileManager.default
        let snapshot = source.appendingPathComponent(BackupLayout.database)
        guard files.fileExists(atPath: source.appendingPathComponent(BackupLayout.manifest).path), files.fileExists(atPath: snapshot.path)
        else {
            throw OperatorError(
                "\(source.path) is not a backup made by `atelier backup` (no \(BackupLayout.manifest) and \(BackupLayout.database))")
        }
        let database = URL(fileURLWithPath: databasePath).standardizedFileURL
        for suffix in ["", "-wal", "-shm"] where files.fileExists(atPath: database.path + suffix) {
            throw OperatorError(
                "refusing to overwrite \(database.path + suffix): restore into an empty DATA_DIR (move the old data away first)")
        }
        let blobs: any BlobStore =
            if let s3 = config.s3 {
                S3BlobStore(configuration: s3, client: context.application.http.client.shared)
            } else {
                try LocalDiskBlobStore(root: URL(fileURLWithPath: config.dataDirectory).appendingPathComponent("blobs"))
            }
        let restored = try await BlobCopier(blobs: blobs).restore(from: source.appendingPathComponent(BackupLayout.blobs))
        try files.createDirectory(at: database.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = database.deletingLastPathComponent().appendingPathComponent(".\(database.lastPathComponent).restoring")
        try? files.removeItem(at: temporary)
        try files.copyItem(at: snapshot, to: temporary)
        try files.moveItem(at: temporary, to: database)
        context.console.print("Restored \(source.path): database at \(database.path) and \(restored) image file(s). Start Atelier.")
    }
}
