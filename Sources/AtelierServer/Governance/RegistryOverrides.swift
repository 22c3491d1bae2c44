import Fluent
import Foundation

/// Loads the admin's model overrides from the database into the live registry.
struct RegistryOverrides: Sendable {
    let database: any Database
    let registry: LiveModelRegistry

    func reload() async throws {
        registry.apply(try await ModelOverrideRecord.query(on: database).all())
    }
}
