/// The waiting line of the batching actors (`GroupCommit`, `RateHitBatcher`): members that arrive while a batch is
/// in flight wait and go together in the next one, at most `maxBatch` of them, in arrival order. Kept inside the
/// actor that owns it (its isolation is the queue's); one drain at a time takes batches until none waits.
struct BatchQueue<Member> {
    let maxBatch: Int
    private var pending: [Member] = []
    private var draining = false
    private var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(maxBatch: Int) {
        self.maxBatch = maxBatch
    }

    /// Adds `member`; true when no drain runs yet and the caller must start one.
    mutating func add(_ member: Member) -> Bool {
        pending.append(member)
        let ready = watchers.filter { $0.count <= pending.count }
        watchers.removeAll { $0.count <= pending.count }
        for watcher in ready { watcher.continuation.resume() }
        defer { draining = true }
        return !draining
    }

    /// The next batch for the drain; nil when none waits, which ends the drain.
    mutating func next() -> [Member]? {
        guard !pending.isEmpty else {
            draining = false
            return nil
        }
        let batch = Array(pending.prefix(maxBatch))
        pending.removeFirst(batch.count)
        return batch
    }

    /// Tests only: whether `count` members wait; if not, `watch` resumes `continuation` once they do.
    func hasWaiting(_ count: Int) -> Bool { pending.count >= count }

    mutating func watch(_ count: Int, _ continuation: CheckedContinuation<Void, Never>) {
        watchers.append((count, continuation))
    }
}
