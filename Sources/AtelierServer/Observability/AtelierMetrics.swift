import Foundation
import Prometheus

/// What Atelier counts, in one Prometheus registry per instance, served by `GET /v1/metrics` (admins).
/// `prepareCommandLine` also bootstraps swift-metrics with this registry, so Vapor's own HTTP metrics
/// (`http_requests_total`, `http_request_duration_seconds`) appear beside these.
public struct AtelierMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    static let secondsBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    func jobEnqueued(kind: String) {
        registry.makeCounter(name: "atelier_jobs_enqueued_total", labels: [("kind", kind)], help: "Jobs accepted.").increment()
    }

    /// A job reached a final status (`succeeded`, `failed`, `canceled`); counted once, where its final event is published.
    func jobFinished(kind: String, status: String, errorCode: String?) {
        registry.makeCounter(
            name: "atelier_jobs_finished_total", labels: [("kind", kind), ("status", status), ("error", errorCode ?? "")],
            help: "Jobs that reached a final status, by error code for failures."
        ).increment()
    }

    func jobRetried(reason: String) {
        registry.makeCounter(
            name: "atelier_job_retries_total", labels: [("reason", reason)], help: "Attempts given back to the queue after a retryable failure."
        ).increment()
    }

    /// Time a job waited between becoming due and being claimed.
    func queueWait(seconds: Double) {
        registry.makeValueHistogram(
            name: "atelier_job_queue_wait_seconds", labels: [], buckets: Self.secondsBuckets,
            help: "Seconds from due (enqueued or back-off over) to claimed.").record(max(0, seconds))
    }

    /// One attempt: the upstream call plus storing its images.
    func attempt(kind: String, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        registry.makeValueHistogram(
            name: "atelier_job_attempt_seconds", labels: [("kind", kind)], buckets: Self.secondsBuckets,
            help: "Seconds per attempt: upstream call and storing the images.").record(seconds)
    }

    func spend(model: String, nanoDollars: Int64, images: Int) {
        registry.makeCounter(name: "atelier_spend_usd_total", labels: [("model", model)], help: "Committed cost in USD.")
            .increment(by: Double(nanoDollars) / 1e9)
        registry.makeCounter(name: "atelier_images_generated_total", labels: [("model", model)], help: "Output images committed.")
            .increment(by: Int64(images))
    }

    /// Values read when scraped.
    func snapshot(jobsByStatus: [String: Int], inFlight: Int, eventStreams: Int, killSwitch: Bool) {
        for status in ["queued", "running"] {
            registry.makeGauge(name: "atelier_jobs", labels: [("status", status)], help: "Jobs in the queue, all instances.")
                .set(to: Double(jobsByStatus[status] ?? 0))
        }
        registry.makeGauge(name: "atelier_worker_in_flight", help: "Jobs this instance's worker is running.").set(to: Double(inFlight))
        registry.makeGauge(name: "atelier_event_streams", help: "Open SSE streams on this instance.").set(to: Double(eventStreams))
        registry.makeGauge(name: "atelier_kill_switch", help: "1 while new jobs are refused.").set(to: killSwitch ? 1.0 : 0.0)
    }
}
