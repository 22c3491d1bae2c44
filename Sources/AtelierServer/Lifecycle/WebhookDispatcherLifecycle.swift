import Vapor

extension Application {
    /// A dispatcher over this app's database and shared HTTP client (started with the job worker, or driven by tests).
    func makeWebhookDispatcher() -> WebhookDispatcher {
        WebhookDispatcher(
            database: db, client: http.client.shared, settings: atelier.config.webhooks, clock: atelier.clock, logger: logger)
    }

    /// Runs a webhook dispatcher until the returned stop function is called (which waits for it to end).
    func startWebhookDispatcher() -> @Sendable () async -> Void {
        let task = Task { [dispatcher = makeWebhookDispatcher()] in await dispatcher.run() }
        return {
            task.cancel()
            await task.value
        }
    }
}

/// Sends webhook deliveries from boot to shutdown in a process that runs jobs (`atelier serve` with its worker).
struct WebhookDispatcherLifecycle: LifecycleHandler {
    final class Box: @unchecked Sendable { var stop: (@Sendable () async -> Void)? }
    private struct Key: StorageKey { typealias Value = Box }

    func didBootAsync(_ app: Application) async throws {
        let box = Box()
        box.stop = app.startWebhookDispatcher()
        app.storage[Key.self] = box
    }

    func shutdownAsync(_ app: Application) async {
        await app.storage[Key.self]?.stop?()
    }
}
