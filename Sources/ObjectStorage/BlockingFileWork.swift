import Dispatch
import Synchronization

/// Runs blocking file work (a blob's write and fsync) on threads of its own, so it never holds a thread of the pool
/// Swift's tasks run on (on Linux the default-QoS global dispatch queue, one thread per core): while an fsync waits
/// on the disk, the other jobs' decoding and the callers' forwarded answers keep running. Serial queues (four, taken
/// in turn) run on dispatch's overcommit threads, which a blocked thread does not hold up; a concurrent queue would
/// share the tasks' threads.
enum BlockingFileWork {
    private static let lanes = (0..<4).map { DispatchQueue(label: "atelier.blob-writes.\($0)") }
    private static let next = Atomic<Int>(0)

    static func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        let lane = lanes[next.wrappingAdd(1, ordering: .relaxed).oldValue & 3]
        return try await withCheckedThrowingContinuation { continuation in
            lane.async { continuation.resume(with: Swift.Result { try work() }) }
        }
    }
}
