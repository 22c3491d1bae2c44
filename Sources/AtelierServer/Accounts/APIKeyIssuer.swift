import Fluent
import FluentSQL
import Foundation
import SQLKit

/// Issues API keys (`atl_` + 43 random characters, shown once) and finds the key a bearer token names.
struct APIKeyIssuer: Sendable {
    static let prefixLength = 12
    /// What every Atelier key starts with.
    static let prefix = "atl_"
    let database: any Database
    let clock: AtelierClock

    struct Issued: Sendable {
        var record: APIKeyRecord
        /// The whole key; never stored, shown once.
        var secret: String
    }

    func issue(for userID: UUID, name: String, scopes: Set<APIKeyScope> = APIKeyScope.defaults) async throws -> Issued {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.count <= 100 else { throw APIError.invalid("name", "A key name is at most 100 characters.") }
        let secret = Self.prefix + SecretToken.random(bytes: 32)
        let record = APIKeyRecord(
            userID: userID, name: name.isEmpty ? "key" : name, prefix: String(secret.prefix(Self.prefixLength)),
            keyHash: SecretToken.sha256(secret), scopes: scopes, now: clock.now())
        try await record.create(on: database)
        return Issued(record: record, secret: secret)
    }

    /// The live key and its user for a bearer token; nil when unknown or revoked. One statement (every `/v1`
    /// request with a key runs it): the key and its user joined, the user decoded once, the key's columns by name.
    func find(secret: String) async throws -> (keyID: UUID, scopes: Set<APIKeyScope>, user: UserRecord)? {
        guard secret.hasPrefix(Self.prefix), secret.count < 200 else { return nil }
        guard
            let row = try await database.sql.raw(
                """
                SELECT u.*, k.id AS key_id, k.scopes AS key_scopes, k.last_used_at AS key_last_used_at
                FROM api_keys k JOIN users u ON u.id = k.user_id
                WHERE k.key_hash = \(bind: SecretToken.sha256(secret)) AND k.revoked_at IS NULL
                """
            ).first()
        else { return nil }
        let keyID = try row.decode(column: "key_id", as: UUID.self)
        let now = clock.now()
        if (try row.decode(column: "key_last_used_at", as: Double?.self) ?? 0) < now - 60 {
            try await database.sql.raw("UPDATE api_keys SET last_used_at = \(bind: now) WHERE id = \(bind: keyID)").run()
        }
        return (
            keyID, APIKeyScope.decode(try row.decode(column: "key_scopes", as: String.self)),
            try row.decode(fluentModel: UserRecord.self)
        )
    }
}
