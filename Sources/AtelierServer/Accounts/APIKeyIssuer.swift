import Fluent
import Foundation

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

    /// The live key and its user for a bearer token; nil when unknown or revoked.
    func find(secret: String) async throws -> (APIKeyRecord, UserRecord)? {
        guard secret.hasPrefix(Self.prefix), secret.count < 200 else { return nil }
        guard
            let key = try await APIKeyRecord.query(on: database)
                .filter(\.$keyHash == SecretToken.sha256(secret)).filter(\.$revokedAt == nil).with(\.$user).first()
        else { return nil }
        let now = clock.now()
        if (key.lastUsedAt ?? 0) < now - 60 {
            try await APIKeyRecord.query(on: database).filter(\.$id == key.requireID()).set(\.$lastUsedAt, to: now).update()
        }
        return (key, key.user)
    }
}
