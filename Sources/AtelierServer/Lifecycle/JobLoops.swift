import Vapor

extension Application {
    /// A dispatcher over this app's database and shared HTTP client (run with the job worker, or driven by tests).
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

    /// The job worker and the webhook dispatcher of a process that runs jobs (`serve` with its worker, `worker`),
    /// as background loops; the worker is registered as this app's, so cancels reach it at once.
    func addJobLoops() {
        let worker = makeJobWorker()
        jobWorker = worker
        let hub = atelier.hub
        backgroundServices.append(
            BackgroundLoop(
                description: "job worker", loop: { await worker.run() }, afterCancel: { await hub.wakeWorkers() }))
        let dispatcher = makeWebhookDispatcher()
        backgroundServices.append(BackgroundLoop(description: "webhook dispatcher", loop: { await dispatcher.run() }))
    }

    /// Housekeeping (lease expiry, retention, reconciliation, purges, registry reloads) as a background loop of
    /// every `serve` and `worker` process, with or without a job worker, stopped after the worker has drained.
    func addHousekeeping() {
        let loop = makeHousekeepingLoop()
        backgroundServices.append(BackgroundLoop(description: "housekeeping", loop: { await loop.run() }))
    }

    /// Housekeeping over this app's services; leases are checked as often as workers renew them, unless told.
    func makeHousekeepingLoop(leaseCheckSeconds: Double? = nil) -> HousekeepingLoop {
        let services = atelier
        let housekeeping = Housekeeping(
            database: db, blobs: services.blobs, clock: services.clock, access: services.config.access,
            registry: services.liveRegistry)
        return HousekeepingLoop(
            housekeeping: housekeeping, lifecycle: lifecycle(), hub: services.hub, logger: logger,
            leaseCheckSeconds: leaseCheckSeconds ?? JobWorker.heartbeatSeconds(leaseSeconds: services.config.worker.leaseSeconds))
    }
}
