import Foundation
import Logging

/// Runs `Housekeeping` until its task is canceled (the service group's graceful shutdown): lease expiry every
/// `leaseCheckSeconds`, the minute's chores when due. Each pass runs in a task of its own that cancellation does not
/// reach, so a pass in progress (a purge, a requeue) finishes before the loop ends.
struct HousekeepingLoop: Sendable {
    let housekeeping: Housekeeping
    let lifecycle: JobLifecycle
    let hub: JobEventHub
    let logger: Logger
    let leaseCheckSeconds: Double

    func run() async {
        while !Task.isCancelled {
            await Task { await pass() }.value
            try? await Task.sleep(for: .seconds(leaseCheckSeconds))
        }
    }

    /// Expires leases (each expired job's new status, release and event are committed and delivered there), then
    /// runs the minute's chores when due.
    func pass() async {
        do {
            let (requeued, _, failed) = try await lifecycle.expireLeases()
            for jobID in requeued {
                logger.warning("requeued a job whose lease expired", metadata: ["job": "\(jobID)"])
            }
            for jobID in failed {
                logger.error(
                    "a job's lease expired and it runs no more (its last attempt, or a compatible-route job whose caller is gone); failed it",
                    metadata: ["job": "\(jobID)"])
            }
            if !requeued.isEmpty { await hub.wakeWorkers() }
        } catch {
            logger.error("lease expiry failed", metadata: ["error": "\(error)"])
        }
        guard housekeeping.choresDue() else { return }
        do {
            try await housekeeping.run()
        } catch {
            logger.error("housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}
