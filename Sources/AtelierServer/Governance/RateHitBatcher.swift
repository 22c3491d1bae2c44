import Fluent
import Foundation

/// PostgreSQL's requests-per-minute hits (`CallerResolver`: every `/v1` request; SQLite decides them in memory, see
/// `RequestHitCounts`) counted in batches. Hits that arrive while a
/// batch's statement is in flight wait and then share the next one: one multi-row upsert (`RateLimiter.hit(all:)`)
/// instead of a write transaction per request, which capped
/// every `/v1` route at about 300 requests/s on SQLite. Each hit is decided as if the batch's hits had been counted one after
/// another in arrival order, so limits hold exactly; a hit is answered only after its batch's statement returned,
/// and a failed statement fails every hit of its batch (as it failed the one request before).
actor RateHitBatcher {
    private struct Pending {
        let hit: RateLimiter.Hit
        let database: any Database
        let continuation: CheckedContinuation<RateLimiter.Decision, any Error>
    }

    /// Hits waiting for the next statement; at most `maxHits` per statement (3 bound values per subject, at most 2
    /// subjects per hit).
    private var queue: BatchQueue<Pending>
    /// Statements run so far, and the hits they held (tests read them).
    private(set) var statements = 0
    private(set) var countedHits = 0
    /// Tests only: called with a batch's size before its statement runs (a test holds a batch there while the next
    /// one fills).
    typealias Hook = @Sendable (Int) async throws -> Void
    private var beforeStatement: Hook?

    init(maxHits: Int = 512) {
        queue = BatchQueue(maxBatch: maxHits)
    }

    /// Counts `hit` in the next batch on `database` and returns its decision once that batch's statement returned.
    /// On SQLite the statement waits for its turn among this process's writers (`SQLiteWriteQueue`), not at the
    /// write lock; on PostgreSQL (row locks, no single writer) it runs at once.
    func hit(
        _ hit: RateLimiter.Hit, on database: any Database, clock: AtelierClock
    ) async throws -> RateLimiter.Decision {
        try await withCheckedThrowingContinuation { continuation in
            if queue.add(Pending(hit: hit, database: database, continuation: continuation)) {
                Task(executorPreference: database.writeExecutor) { await self.drain(clock: clock) }  // SQLite's writer
            }
        }
    }

    /// Tests only: returns once `count` hits wait for the next batch.
    func untilWaiting(_ count: Int) async {
        guard !queue.hasWaiting(count) else { return }
        await withCheckedContinuation { queue.watch(count, $0) }
    }

    func setHook(beforeStatement: Hook?) {
        self.beforeStatement = beforeStatement
    }

    private func drain(clock: AtelierClock) async {
        while let batch = queue.next() {
            do {
                try await beforeStatement?(batch.count)
                let decisions = try await RateLimiter(database: batch[0].database, clock: clock).hit(all: batch.map(\.hit))
                statements += 1
                countedHits += batch.count
                for (member, decision) in zip(batch, decisions) { member.continuation.resume(returning: decision) }
            } catch {
                for member in batch { member.continuation.resume(throwing: error) }
            }
        }
    }
}
