import Foundation

extension AtelierConfig {
    /// The SQLite database file when it does not exist (yet); nil when it does or the database is not a file.
    var missingSQLiteFile: String? {
        guard case .sqliteFile(let path) = database, !FileManager.default.fileExists(atPath: path) else { return nil }
        return path
    }
}
