import AtelierCore
import Fluent
import Foundation
import SQLKit

/// A chunk of a batch's jobs as one PostgreSQL `INSERT … SELECT … FROM UNNEST(…)`: one array bind per column
/// instead of one bind per cell, and the JSON columns encoded here and cast to jsonb. PostgresKit encodes a bind
/// of a Codable struct by first trying its array encoder and, when that throws, JSON: per cell, that was most of
/// the 13.5 s 10,000 rows took (`bench/batch_create.py`); the server's own work was about 1 s.
struct BatchJobRows {
    let jobs: [JobRecord]

    func insert(on sql: any SQLDatabase) async throws {
        let json = JSONEncoder()
        func text<T: Encodable>(_ value: T) throws -> String { String(decoding: try json.encode(value), as: UTF8.self) }
        try await sql.raw(
            """
            INSERT INTO jobs (id, owner, kind, status, prompt, model, params, attempts, max_attempts, run_after, cancel_requested,
                seq, favorite, estimated_cost_nano, created_at, batch_id, batch_index, batch_row, batch_vars)
            SELECT id, owner, kind, 'queued', prompt, model, params::jsonb, attempts, max_attempts, run_after, cancel_requested,
                seq, favorite, estimated_cost_nano, created_at, batch_id, batch_index, batch_row, batch_vars::jsonb
            FROM UNNEST(
                \(bind: jobs.map { $0.id! }), \(bind: jobs.map(\.owner)), \(bind: jobs.map(\.kind)), \(bind: jobs.map(\.prompt)),
                \(bind: jobs.map(\.model)), \(bind: try jobs.map { try text($0.params) }), \(bind: jobs.map(\.attempts)),
                \(bind: jobs.map(\.maxAttempts)), \(bind: jobs.map(\.runAfter)), \(bind: jobs.map(\.cancelRequested)),
                \(bind: jobs.map(\.seq)), \(bind: jobs.map(\.favorite)), \(bind: jobs.map { $0.estimatedCostNano ?? 0 }),
                \(bind: jobs.map(\.createdAt)), \(bind: jobs.map { $0.batchID! }), \(bind: jobs.map { $0.batchIndex ?? 0 }),
                \(bind: jobs.map { $0.batchRow ?? 0 }), \(bind: try jobs.map { try text($0.batchVars ?? [:]) })
            ) AS t(id, owner, kind, prompt, model, params, attempts, max_attempts, run_after, cancel_requested,
                seq, favorite, estimated_cost_nano, created_at, batch_id, batch_index, batch_row, batch_vars)
            """
        ).run()
    }
}
