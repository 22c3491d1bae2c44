import ServiceLifecycle

/// A long-running loop of this process (job worker, webhook dispatcher, event relay) as a `Service`. It runs until
/// the service group's graceful shutdown begins; then the loop's task is canceled, which is each loop's own way to
/// stop (the job worker stops claiming and gives running jobs SHUTDOWN_GRACE_SECONDS before their leases are
/// released), `afterCancel` wakes it if it is asleep, and `run` returns when the loop has ended.
struct BackgroundLoop: Service, CustomStringConvertible {
    let description: String
    let loop: @Sendable () async -> Void
    var afterCancel: @Sendable () async -> Void = {}

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await loop() }
            group.addTask { try? await gracefulShutdown() }  // returns when shutdown begins (or on cancellation)
            await group.next()
            group.cancelAll()
            await afterCancel()
        }
    }
}
