import Fluent
import FluentSQL
import SQLKit

extension JobRecord {
    /// The job in `row` (a `RETURNING *` or `SELECT *` of `jobs`), in the state Fluent's `decode(fluentModel:)`
    /// leaves it (every column read as stored, the id existing) but without that call's reflection over the model's
    /// properties on every row, which was most of a claim's decoding time.
    convenience init(row: any SQLRow) throws {
        self.init()
        let output = RowOutput(row: row)
        for property in storedProperties { try property.output(from: output) }
    }

    /// Every stored property, in declaration order; `JobRecordRowTests` checks it against Fluent's reflection, so a
    /// column added to the model and not here fails a test instead of going unread.
    var storedProperties: [any AnyDatabaseProperty] {
        [
            $id, $owner, $kind, $status, $prompt, $model, $params, $options, $result, $usage, $costNano,
            $estimatedCostNano, $errorCode, $errorMessage, $errorRetryable, $attempts, $maxAttempts, $runAfter,
            $leaseOwner, $leaseExpires, $cancelRequested, $seq, $upstreamRequestID, $favorite, $idempotencyKey,
            $requestHash, $createdAt, $startedAt, $finishedAt, $upstreamKey, $rateLimitUntil, $rateLimitedSince,
            $batchID, $batchIndex, $batchRow, $batchVars, $compatCaller, $images,
        ]
    }

    /// An SQL row as Fluent reads a model's columns from it (FluentSQL's own adapter is internal).
    private struct RowOutput: DatabaseOutput {
        let row: any SQLRow

        var description: String { "\(row)" }

        func schema(_ schema: String) -> any DatabaseOutput { self }

        func contains(_ key: FieldKey) -> Bool { row.contains(column: key.description) }

        func decodeNil(_ key: FieldKey) throws -> Bool { try row.decodeNil(column: key.description) }

        func decode<T: Decodable>(_ key: FieldKey, as type: T.Type) throws -> T {
            try row.decode(column: key.description, as: T.self)
        }
    }
}
