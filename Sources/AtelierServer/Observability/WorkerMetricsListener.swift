import Vapor

/// `METRICS_PORT` on `atelier worker`: a listener that serves only `GET /metrics` (this process's counters and
/// histograms, which no HTTP instance can see), bound to `METRICS_HOSTNAME` (127.0.0.1 unless set).
struct WorkerMetricsListener {
    let listener: Application

    static func start(for app: Application) async throws -> WorkerMetricsListener? {
        let settings = app.atelier.config.worker
        guard let port = settings.metricsPort else { return nil }
        let listener = try await Application.make(Environment(name: app.environment.name, arguments: ["atelier-metrics"]))
        listener.http.server.configuration.hostname = settings.metricsHostname
        listener.http.server.configuration.port = port
        listener.get("metrics") { _ in MetricsController.response(try await MetricsController.render(app)) }
        try await listener.server.start()
        app.logger.notice("worker metrics on http://\(settings.metricsHostname):\(port)/metrics")
        return WorkerMetricsListener(listener: listener)
    }

    func stop() async throws {
        await listener.server.shutdown()
        try await listener.asyncShutdown()
    }
}
