import Logging
import ServiceLifecycle
import Vapor

/// The command on the command line as a `Service`: `serve` starts the HTTP server and runs until the group's graceful
/// shutdown stops it; `worker` waits for that shutdown itself; one-shot commands (`migrate`, `users`, …) return, and
/// their return ends the group.
struct ApplicationService: Service, CustomStringConvertible {
    let app: Application
    var description: String { "atelier command" }

    func run() async throws {
        try await app.startup()  // what `execute()` does, without its second report of an error
        guard let running = app.running else { return }
        try await withGracefulShutdownHandler {
            try await running.onStop.get()
        } onGracefulShutdown: {
            running.stop()
        }
    }
}

extension Application {
    /// Loops this process runs beside its command (`serve`: worker and webhooks unless WORKER_ENABLED=false, the
    /// PostgreSQL event relay; `worker`: the same without HTTP). Added while the command line is prepared.
    var backgroundServices: [any ServiceLifecycle.Service] {
        get { storage[BackgroundServicesKey.self] ?? [] }
        set { storage[BackgroundServicesKey.self] = newValue }
    }

    private struct BackgroundServicesKey: StorageKey { typealias Value = [any ServiceLifecycle.Service] }

    /// Runs the command and the background loops in one `ServiceGroup` until the command ends or SIGTERM/SIGINT
    /// begins a graceful shutdown, which goes in reverse order: the command first (HTTP stops being awaited), then
    /// the worker drains, then webhooks and the relay stop.
    public func runServices() async throws {
        let loops = backgroundServices.reversed().map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .ignore)
        }
        let command = ServiceGroupConfiguration.ServiceConfiguration(
            service: ApplicationService(app: self), successTerminationBehavior: .gracefullyShutdownGroup)
        let group = ServiceGroup(
            configuration: .init(
                services: Array(loops) + [command], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
