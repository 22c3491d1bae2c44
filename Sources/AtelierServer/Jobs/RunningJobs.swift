import Foundation
import Synchronization

/// The jobs one worker is running, each with the task that runs it. Every run gets its own token, so a task that
/// ends removes only its own entry: a job retried at once can be claimed again by the same worker before the
/// earlier task has removed itself, and that newer run must stay registered (it counts against the worker's
/// concurrency and `cancel` must reach it).
final class RunningJobs: Sendable {
    private let entries = Mutex<[UUID: (token: UUID, task: Task<Void, Never>)]>([:])

    var count: Int { entries.withLock { $0.count } }
    var jobIDs: [UUID] { entries.withLock { Array($0.keys) } }
    var tasks: [Task<Void, Never>] { entries.withLock { $0.values.map(\.task) } }

    func task(for jobID: UUID) -> Task<Void, Never>? { entries.withLock { $0[jobID]?.task } }

    /// Runs `operation` in a new task registered under `jobID` until it returns, then `afterwards` (once the
    /// entry is gone, so a worker woken there sees the freed slot).
    @discardableResult
    func start(
        _ jobID: UUID, operation: @escaping @Sendable () async -> Void,
        afterwards: @escaping @Sendable () async -> Void = {}
    ) -> Task<Void, Never> {
        let token = UUID()
        return entries.withLock { entries in
            // Created under the lock: the task cannot remove its entry before the entry exists.
            let task = Task {
                await operation()
                self.remove(jobID, token: token)
                await afterwards()
            }
            entries[jobID] = (token, task)
            return task
        }
    }

    private func remove(_ jobID: UUID, token: UUID) {
        entries.withLock { entries in
            if entries[jobID]?.token == token { entries.removeValue(forKey: jobID) }
        }
    }
}
