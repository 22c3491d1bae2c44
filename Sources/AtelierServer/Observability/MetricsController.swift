import Fluent
import SQLKit
import Vapor

/// `GET /v1/metrics`: Prometheus text for admins (point a scraper at it with an admin API key as bearer token).
struct MetricsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("metrics", use: metrics)
    }

    @Sendable func metrics(req: Request) async throws -> Response {
        Self.response(try await Self.render(req.application))
    }

    /// The registry as Prometheus text, after reading the gauges (queue, spend today, this process's worker).
    static func render(_ app: Application) async throws -> String {
        let rows = try await app.db.sql.raw(
            """
            SELECT status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') GROUP BY status
            """
        ).all()
        var jobs: [String: Int] = [:]
        for row in rows { jobs[try row.decode(column: "status", as: String.self)] = try row.decode(column: "n", as: Int.self) }
        let settings = try await RuntimeSettings.load(app.db, access: app.atelier.config.access)
        let (today, _) = SpendBudget.periods(at: app.atelier.clock.now())
        let spentToday =
            try await app.db.sql.raw(
                """
                SELECT amount_nano FROM spend_periods WHERE subject = '*' AND period = \(bind: today)
                """
            ).first()?.decode(column: "amount_nano", as: Int64.self) ?? 0
        let metrics = app.atelier.metrics
        metrics.snapshot(
            jobsByStatus: jobs, inFlight: app.jobWorker?.inFlight ?? 0,
            eventStreams: await app.atelier.hub.subscriberCount, killSwitch: settings.killSwitch,
            spentTodayNano: spentToday)
        let upstream = try await app.upstreamGate().overview()
        metrics.upstreamSnapshot(
            stoppedKeys: upstream.keys.filter { $0.status != UpstreamGate.KeyStatus.active.rawValue }.count,
            pausedLanes: upstream.keys.reduce(0) { $0 + $1.lanes.filter { $0.waitSeconds > 0 }.count })
        return metrics.registry.emitToString()
    }

    static func response(_ text: String) -> Response {
        let response = Response(status: .ok, body: .init(string: text))
        response.headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
        response.headers.cacheControl = .init(noStore: true)
        return response
    }
}
