import Vapor

/// Applies the admin's model overrides from the database when the app boots (a fresh database has none yet).
struct RegistryOverridesLifecycle: LifecycleHandler {
    func didBootAsync(_ application: Application) async throws {
        do {
            try await RegistryOverrides(database: application.db, registry: application.atelier.liveRegistry).reload()
        } catch {
            application.logger.debug("no model overrides loaded yet", metadata: ["reason": "\(error)"])
        }
    }
}
