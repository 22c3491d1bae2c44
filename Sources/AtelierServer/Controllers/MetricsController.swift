import Fluent
import SQLKit
import Vapor

/// `GET /v1/metrics`: Prometheus text for admins (point a scraper at it with an admin API key as bearer token).
struct MetricsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("metrics", use: metrics)
    }

    @Sendable func metrics(req: Request) async throws -> Response {
        let rows = try await (req.db as! any SQLDatabase).raw("""
            SELECT status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') GROUP BY status
            """).all()
        var jobs: [String: Int] = [:]
        for row in rows { jobs[try row.decode(column: "status", as: String.self)] = try row.decode(column: "n", as: Int.self) }
        let settings = try await RuntimeSettings.load(req.db, access: req.atelier.config.access)
        let (today, _) = SpendBudget.periods(at: req.atelier.clock.now())
        let spentToday = try await (req.db as! any SQLDatabase).raw("""
            SELECT amount_nano FROM spend_periods WHERE subject = '*' AND period = \(bind: today)
            """).first()?.decode(column: "amount_nano", as: Int64.self) ?? 0
        let metrics = req.atelier.metrics
        metrics.snapshot(
            jobsByStatus: jobs, inFlight: req.application.jobWorker?.inFlight ?? 0,
            eventStreams: await req.atelier.hub.subscriberCount, killSwitch: settings.killSwitch,
            spentTodayNano: spentToday)
        let response = Response(status: .ok, body: .init(string: metrics.registry.emitToString()))
        response.headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
        response.headers.cacheControl = .init(noStore: true)
        return response
    }
}
