import AtelierCore
import Fluent
import Foundation
import Logging

/// Everything a job handler needs, passed in by the worker (no globals).
struct WorkerContext: Sendable {
    let database: any Database
    let blobs: any BlobStore
    let provider: any ImageProvider
    let publisher: JobEventPublisher
    let queue: JobQueue
    let liveRegistry: LiveModelRegistry
    let clock: AtelierClock
    let logger: Logger
    let metrics: AtelierMetrics
    /// Set by `JobRunner` for the attempt it runs: records whether the upstream started, partials, usage.
    var attempt: AttemptMeter? = nil
    /// Upstream keys, pauses and pacing shared through the database.
    var gate: UpstreamGate? = nil
    /// The key the running job was admitted on (`UpstreamGate.admit`); its calls go out with it.
    var upstreamKey: String? = nil
    /// Compatible-route callers of this instance waiting for their job's upstream answer (`ResponseTaps`).
    var responseTaps: ResponseTaps? = nil
    /// Set by `JobRunner` for the attempt it runs: where the upstream's answer is forwarded as it arrives.
    var responseTap: ProviderResponseTap? = nil
    /// Successes that end together commit together (`JobLifecycle.completions`).
    var completions: GroupCommit<JobLifecycle.Published?>? = nil
    /// Tests only: the lifecycle's fault hook (`JobLifecycle.faultAfter`), and a call after a success commit returned
    /// whose throw stands for an answer lost after the commit landed (`SuccessCommit`).
    var lifecycleFault: (@Sendable (JobLifecycle.Step) throws -> Void)? = nil
    var afterSuccessCommit: (@Sendable () async throws -> Void)? = nil

    /// As it stands now: a job claimed after its model's shutdown date fails without reaching the upstream.
    var registry: ModelRegistry { liveRegistry.dated(at: clock.now()) }
    var costs: CostCalculator { CostCalculator(registry: liveRegistry.current) }
    var lifecycle: JobLifecycle {
        var lifecycle = JobLifecycle(database: database, publisher: publisher, faultAfter: lifecycleFault)
        lifecycle.completions = completions
        return lifecycle
    }
    var images: ImageStore { ImageStore(database: database, blobs: blobs, clock: clock) }

    /// The upstream call, timed for `atelier_upstream_seconds` (so Atelier's own share of a job's time shows).
    func callProvider(
        _ request: ProviderRequest, kind: String,
        onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void = { _ in }
    ) async throws(ProviderError) -> ProviderResult {
        let started = ContinuousClock.now
        FastPathTrace.mark("upstream_call", job: nil, logger: logger)
        attempt?.upstreamStarted()
        var request = request
        request.upstreamKey = upstreamKey
        request.responseTap = responseTap
        do {
            let result = try await provider.run(request) { [attempt] partial in
                attempt?.partialArrived()
                await onPartial(partial)
            }
            attempt?.upstreamReported(result.usage)
            metrics.upstream(kind: kind, outcome: "ok", duration: ContinuousClock.now - started)
            if let reset = result.rateLimitReset, reset > 0, let gate, let upstreamKey {
                // The answer said a limit is used up: wait for its reset instead of earning a 429.
                do {
                    try await gate.pause(key: upstreamKey, model: request.parameters.model, seconds: reset, reason: "limit_used")
                } catch {
                    logger.warning("could not record a used-up rate limit", metadata: ["error": "\(error)"])
                }
            }
            return result
        } catch {
            metrics.upstream(kind: kind, outcome: error.code, duration: ContinuousClock.now - started)
            throw error
        }
    }
}

extension WorkerContext {
    /// This context with `meter` recording one attempt's upstream call and `tap` seeing its answer.
    func measured(by meter: AttemptMeter, tap: ProviderResponseTap?) -> WorkerContext {
        var copy = self
        copy.attempt = meter
        copy.responseTap = tap
        return copy
    }
}
