import Dispatch

/// Runs blocking file work (a blob's write and fsync) on a dispatch queue of its own, so it never holds one of Swift
/// concurrency's cooperative threads (one per core): while an fsync waits on the disk, the other jobs' decoding and
/// the callers' forwarded answers keep running.
enum BlockingFileWork {
    private static let queue = DispatchQueue(label: "atelier.blob-writes", attributes: .concurrent)

    static func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Swift.Result { try work() }) }
        }
    }
}
