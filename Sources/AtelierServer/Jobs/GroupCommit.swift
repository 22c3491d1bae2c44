import Fluent
import Foundation
import SQLKit

/// Group commit: writes that arrive while a commit is in flight wait and then share the next transaction, so on
/// SQLite (one writer, one fsync per commit with `synchronous=FULL`) a hundred concurrent job creations cost a
/// handful of fsyncs instead of a hundred. Each member runs inside its own `SAVEPOINT`: a member that throws (a cap
/// or a limit refused it, a constraint failed) is rolled back alone and gets its own error, the others go on and see
/// exactly what the members before them wrote (caps hold across the group as they do across transactions). Every
/// caller is answered only after the group's `COMMIT` returned, so nothing is acknowledged before it is durable;
/// a failed commit fails every member of its group.
actor GroupCommit<Value: Sendable> {
    typealias Work = @Sendable (any Database) async throws -> Value

    private struct Member {
        let database: any Database
        let work: Work
        let continuation: CheckedContinuation<Value, any Error>
    }

    /// Members waiting for the next group; at most `maxMembers` per transaction (it holds SQLite's write lock while
    /// they run).
    private var queue: BatchQueue<Member>
    /// Transactions committed so far, and members they held (tests and metrics read them). A lone member that
    /// failed counts too: its transaction rolled back instead of its savepoint, to the same effect.
    private(set) var commits = 0
    private(set) var committedMembers = 0
    /// Tests only, called with the group's size: `beforeBegin` before a group's transaction begins (a test holds
    /// a group there while the next one fills); `beforeCommit` inside it after its members, before the `COMMIT`
    /// (throwing rolls the whole group back, as a failed commit or a crash at that point would).
    typealias Hook = @Sendable (Int) async throws -> Void
    private var beforeBegin: Hook?
    private var beforeCommit: Hook?

    /// Hits decided since the last write that each group's transaction stores too (SQLite's requests per minute).
    private let passengers: RequestHitCounts?

    init(maxMembers: Int = 256, passengers: RequestHitCounts? = nil) {
        queue = BatchQueue(maxBatch: maxMembers)
        self.passengers = passengers
    }

    /// Runs `work` in the next group's transaction on `database` and returns its value once that group committed.
    func commit(on database: any Database, _ work: @escaping Work) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            if queue.add(Member(database: database, work: work, continuation: continuation)) {
                // On SQLite the drain, its members' work and their statements all run on the writer's thread.
                Task(executorPreference: database.writeExecutor) { await self.drain() }
            }
        }
    }

    /// Tests only: returns once `count` members wait for the next group (to fill a group deterministically).
    func untilWaiting(_ count: Int) async {
        guard !queue.hasWaiting(count) else { return }
        await withCheckedContinuation { queue.watch(count, $0) }
    }

    func setHooks(beforeBegin: Hook? = nil, beforeCommit: Hook? = nil) {
        self.beforeBegin = beforeBegin
        self.beforeCommit = beforeCommit
    }

    private func drain() async {
        while let group = queue.next() { await run(group) }
    }

    private func run(_ group: [Member]) async {
        let hook = beforeCommit
        let database = group[0].database
        var riders: [RequestHitCounts.Pending] = []
        do {
            try await beforeBegin?(group.count)
            riders = passengers?.take() ?? []
            let outcomes = try await database.writeTransaction { [riders] db -> [Result<Value, any Error>] in
                FastPathTrace.mark("group_begun", job: nil, logger: db.logger, detail: "members=\(group.count)")
                try await RequestHitCounts.store(riders, on: db)  // before the members: a member's rollback keeps them
                // Alone, a member needs no savepoint: its failure rolls the whole transaction back, which is the
                // same as rolling back to its savepoint and committing nothing (two statements fewer per lone job).
                if group.count == 1 {
                    let value: Value
                    do { value = try await group[0].work(db) } catch { throw LoneMemberFailed(error: error) }
                    FastPathTrace.mark("group_members_done", job: nil, logger: db.logger)
                    try await hook?(1)
                    return [.success(value)]
                }
                var outcomes: [Result<Value, any Error>] = []
                for member in group {
                    try await db.sql.raw("SAVEPOINT group_member").run()
                    do {
                        let value = try await member.work(db)
                        try await db.sql.raw("RELEASE SAVEPOINT group_member").run()
                        outcomes.append(.success(value))
                    } catch {
                        try await db.sql.raw("ROLLBACK TO SAVEPOINT group_member").run()
                        try await db.sql.raw("RELEASE SAVEPOINT group_member").run()
                        outcomes.append(.failure(error))
                    }
                }
                FastPathTrace.mark("group_members_done", job: nil, logger: db.logger)
                try await hook?(group.count)
                return outcomes
            }
            FastPathTrace.mark("group_committed", job: nil, logger: database.logger)
            commits += 1
            committedMembers += group.count
            passengers?.settle(riders, stored: true, on: database)
            for (member, outcome) in zip(group, outcomes) { member.continuation.resume(with: outcome) }
        } catch let failed as LoneMemberFailed {
            passengers?.settle(riders, stored: false, on: database)
            commits += 1  // the group ran to its end; its one member's writes rolled back as its savepoint's would
            committedMembers += 1
            group[0].continuation.resume(throwing: failed.error)
        } catch {
            passengers?.settle(riders, stored: false, on: database)
            for member in group { member.continuation.resume(throwing: error) }
        }
    }
}

/// A group of one member runs without a savepoint; its failure rolls the transaction back and is its own error.
private struct LoneMemberFailed: Error {
    let error: any Error
}
