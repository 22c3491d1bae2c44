import Fluent
import SQLKit

extension Database {
    /// This database as SQLKit sees it. Atelier runs only on SQL drivers (SQLite, PostgreSQL), so this is the one
    /// place that casts.
    public var sql: any SQLDatabase {
        guard let sql = self as? any SQLDatabase else { preconditionFailure("Atelier needs an SQL database driver") }
        return sql
    }
}
