/// One SQLite writer of this process at a time, in arrival order: the admission group's transaction and the
/// requests-per-minute batch (`RateHitBatcher`) take turns here instead of meeting at SQLite's write lock, where
/// the one that waits spins (SQLiteNIO's busy handler retries at once) and burns a core the other one needs.
actor WriterTurns {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` in this process's next writer turn.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
