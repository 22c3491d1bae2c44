import Fluent
import SQLKit
import Vapor

/// `atelier migrate [--dry-run]`: applies pending migrations without asking (Fluent's own command asks "y/n" and
/// dies without a terminal). `--dry-run` lists what would run and changes nothing. `--yes` is accepted and ignored.
struct MigrateCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "dry-run", help: "List the pending migrations; change nothing")
        var dryRun: Bool
    }

    var help: String { "Applies pending database migrations (never asks; --dry-run lists them)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let verb = signature.dryRun ? "Would apply" : "Applying"
        switch try await app.migrationState() {
        case .current:
            context.console.print("No pending migrations; the database is current.")
            return
        case .empty:
            context.console.print("\(verb) every migration: the database has no Atelier schema yet.")
        case .pending(let names):
            context.console.print("\(verb) \(names.count) migration(s):")
            for name in names { context.console.print("  + \(name)") }
        }
        if signature.dryRun { return }
        try await app.autoMigrate()
        context.console.print("Done: the database is current.")
    }
}

/// Where the database stands against the migrations this binary knows.
enum MigrationState: Equatable {
    /// No migrations were ever applied (Fluent's bookkeeping table is missing).
    case empty
    case pending([String])
    case current
}

extension Application {
    /// Reads the state without changing anything (not even Fluent's bookkeeping table).
    func migrationState() async throws -> MigrationState {
        let sql = db.sql
        let table = MigrationLog.schema
        let exists: Bool
        switch atelier.config.database {
        case .postgres:
            exists =
                try await sql.raw("SELECT to_regclass(\(bind: table)) IS NOT NULL AS found").first()?
                .decode(column: "found", as: Bool.self) ?? false
        case .sqliteFile, .sqliteMemory:
            exists =
                try await sql.raw("SELECT count(*) AS found FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)")
                .first()?.decode(column: "found", as: Int.self) ?? 0 > 0
        }
        guard exists else { return .empty }
        let names = try await migrator.previewPrepareBatch().get().map { $0.0.name }
        return names.isEmpty ? .current : .pending(names)
    }
}
