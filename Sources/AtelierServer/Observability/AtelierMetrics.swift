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

    /// `atelier_<name>_<unit>`.
    static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "atelier", metricName: name, unitName: unit, helpText: help)
    }

    static let secondsBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    func jobEnqueued(kind: String) {
        registry.makeCounter(descriptor: Self.name("jobs_enqueued", "total", "Jobs accepted."), labels: [("kind", kind)]).increment()
    }

    /// A job reached a final status (`succeeded`, `failed`, `canceled`); counted once, where its final event is published.
    func jobFinished(kind: String, status: String, errorCode: String?) {
        registry.makeCounter(
            descriptor: Self.name("jobs_finished", "total", "Jobs that reached a final status, by error code for failures."),
            labels: [("kind", kind), ("status", status), ("error", errorCode ?? "")]
        ).increment()
    }

    func jobRetried(reason: String) {
        registry.makeCounter(
            descriptor: Self.name("job_retries", "total", "Attempts given back to the queue after a retryable failure."),
            labels: [("reason", reason)]
        ).increment()
    }

    /// Time a job waited between becoming due and being claimed.
    func queueWait(seconds: Double) {
        registry.makeValueHistogram(
            descriptor: Self.name("job_queue_wait", "seconds", "Seconds from due (enqueued or back-off over) to claimed."),
            labels: [], buckets: Self.secondsBuckets
        ).record(max(0, seconds))
    }

    /// One attempt: the upstream call plus storing its images.
    func attempt(kind: String, duration: Duration) {
        registry.makeValueHistogram(
            descriptor: Self.name("job_attempt", "seconds", "Seconds per attempt: upstream call and storing the images."),
            labels: [("kind", kind)], buckets: Self.secondsBuckets
        ).record(Self.seconds(duration))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// One upstream call, by outcome (`ok` or the ProviderError code).
    func upstream(kind: String, outcome: String, duration: Duration) {
        registry.makeValueHistogram(
            descriptor: Self.name("upstream", "seconds", "Seconds per upstream call."),
            labels: [("kind", kind), ("outcome", outcome)], buckets: Self.secondsBuckets
        ).record(Self.seconds(duration))
    }

    func spend(model: String, nanoDollars: Int64, images: Int) {
        registry.makeCounter(descriptor: Self.name("spend_usd", "total", "Committed cost in USD."), labels: [("model", model)])
            .increment(by: Double(nanoDollars) / 1e9)
        registry.makeCounter(descriptor: Self.name("images_generated", "total", "Output images committed."), labels: [("model", model)])
            .increment(by: Int64(images))
    }

    /// A settled cost passed a cap it was reserved under (the money was already spent upstream).
    func spendOverrun(_ overrun: SpendLedger.Overrun) {
        registry.makeCounter(
            descriptor: Self.name("spend_cap_overruns", "total", "Settlements whose exact cost passed a spending cap, by cap."),
            labels: [("cap", overrun.cap)]
        ).increment()
    }

    /// A job went back to the queue to wait for the upstream's rate limit (`rate_limit`: after a 429; `pacing`:
    /// no key had room under `OPENAI_RATE_LIMITS`).
    func rateLimitWait(reason: String) {
        registry.makeCounter(
            descriptor: Self.name(
                "upstream_rate_limit_waits", "total", "Jobs sent back to wait for the upstream's rate limit (no attempt spent)."),
            labels: [("reason", reason)]
        ).increment()
    }

    /// An upstream 429 rate_limit_exceeded, by key label.
    func upstreamRateLimited(key: String) {
        registry.makeCounter(
            descriptor: Self.name("upstream_rate_limited", "total", "Upstream answers 429 rate_limit_exceeded, by key."),
            labels: [("key", key)]
        ).increment()
    }

    /// An upstream key stopped until an admin resumes it (`quota_exhausted` or `refused`).
    func upstreamKeyStopped(key: String, reason: String) {
        registry.makeCounter(
            descriptor: Self.name("upstream_key_stops", "total", "Upstream keys stopped for quota or a refused key."),
            labels: [("key", key), ("reason", reason)]
        ).increment()
    }

    /// Cost and output images per upstream key (labels only).
    func upstreamSpend(key: String, nanoDollars: Int64, images: Int) {
        registry.makeCounter(
            descriptor: Self.name("upstream_spend_usd", "total", "Committed cost in USD per upstream key."), labels: [("key", key)]
        )
        .increment(by: Double(nanoDollars) / 1e9)
        registry.makeCounter(descriptor: Self.name("upstream_images", "total", "Output images per upstream key."), labels: [("key", key)])
            .increment(by: Int64(images))
    }

    /// Upstream keys and lanes as stored (all instances): keys stopped, and (key, model) lanes paused now.
    func upstreamSnapshot(stoppedKeys: Int, pausedLanes: Int) {
        registry.makeGauge(descriptor: Self.name("upstream_keys_stopped", "", "Upstream keys stopped until an admin resumes them."))
            .set(to: Double(stoppedKeys))
        registry.makeGauge(descriptor: Self.name("upstream_paused_lanes", "", "Upstream (key, model) lanes paused for the rate limit now."))
            .set(to: Double(pausedLanes))
    }

    /// Values read when scraped.
    func snapshot(jobsByStatus: [String: Int], inFlight: Int, eventStreams: Int, killSwitch: Bool, spentTodayNano: Int64) {
        for status in ["queued", "running"] {
            registry.makeGauge(descriptor: Self.name("jobs", "", "Jobs in the queue, all instances."), labels: [("status", status)])
                .set(to: Double(jobsByStatus[status] ?? 0))
        }
        registry.makeGauge(descriptor: Self.name("worker_in_flight", "", "Jobs this instance's worker is running."))
            .set(to: Double(inFlight))
        registry.makeGauge(descriptor: Self.name("event_streams", "", "Open SSE streams on this instance."))
            .set(to: Double(eventStreams))
        registry.makeGauge(descriptor: Self.name("kill_switch", "", "1 while new jobs are refused.")).set(to: killSwitch ? 1.0 : 0.0)
        registry.makeGauge(
            descriptor: Self.name("spend_today_usd", "", "Spend today (UTC) across all instances and workers, reserved and settled.")
        ).set(to: Double(spentTodayNano) / 1e9)
    }
}

extension AtelierMetrics {
    /// A batch was created with `jobs` jobs (`atelier_batch_jobs_total{mode}` counts jobs by batch mode).
    func batchCreated(mode: String, jobs: Int) {
        registry.makeCounter(descriptor: Self.name("batches_created", "total", "Batches created."), labels: [("mode", mode)])
            .increment()
        registry.makeCounter(descriptor: Self.name("batch_jobs", "total", "Jobs created by batches."), labels: [("mode", mode)])
            .increment(by: Int64(jobs))
    }
}
