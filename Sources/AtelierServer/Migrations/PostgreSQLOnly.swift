import Fluent
import SQLKit

/// Runs `text` (a PostgreSQL function's definition, or its removal) when `database` is PostgreSQL; SQLite, which
/// has no stored functions, skips it.
func runOnPostgreSQLOnly(_ text: String, on database: any Database) async throws {
    let sql = database as! any SQLDatabase
    guard sql.dialect.name == "postgresql" else { return }
    try await sql.raw(SQLQueryString(text)).run()
}
