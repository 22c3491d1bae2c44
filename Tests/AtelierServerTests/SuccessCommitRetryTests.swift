import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import SQLKit
import Testing
import Vapor

/// A paid-for job whose success commit fails in a way that passes is committed on a later try (`SuccessCommit`),
/// never failed: it ends `succeeded` with one set of image rows, one settled charge, one `job.succeeded` event and
/// its blobs kept. The failures are real driver errors: on PostgreSQL raised inside the completion by a trigger
/// (a deadlock's SQLSTATE, or the connection terminated), on SQLite a real `SQLITE_BUSY` or `SQLITE_FULL` thrown
/// from inside the transaction (`JobLifecycle.faultAfter`, after every write: it all rolls back). A commit that
/// landed though its answer was lost is found on the next try, not mistaken for a lost lease.
@Suite struct SuccessCommitRetryTests {
    enum Fault: String, CaseIterable, CustomTestStringConvertible {
        /// SQLite: busy inside the group commit's transaction; then on the writer's own transaction; disk full.
        case sqliteBusyInGroupCommit, sqliteBusyOnWriter, sqliteDiskFull
        /// PostgreSQL: a deadlock inside `atelier_complete_job`, inside the transactional path; the connection killed.
        case postgresDeadlockInOneStatement, postgresDeadlockInTransaction, postgresConnectionTerminated
        /// Either database: the commit landed, then its answer was lost (a connection dropped after `COMMIT`).
        case answerLostAfterCommit

        var testDescription: String { rawValue }
        var applies: Bool {
            rawValue.hasPrefix("postgres") ? TestDatabase.isPostgres : rawValue.hasPrefix("sqlite") ? !TestDatabase.isPostgres : true
        }
    }

    @Test(arguments: Fault.allCases)
    func aSuccessWhoseCommitFailsOnceIsCommittedOnce(fault: Fault) async throws {
        guard fault.applies else { return }
        try await Self.withClaimedJob { claimed in
            // setup: the worker's first success commit fails with a real driver error
            let (app, harness, jobID, job) = (claimed.app, claimed.harness, claimed.jobID, claimed.job)
            let thrown = Shots()
            let context = try await Self.failingOnce(fault, claimed.worker.context, app: app, thrown: thrown)
            let (subscription, events) = await app.atelier.hub.subscribe(.init(owner: nil, jobID: jobID))
            // MUT
            _ = await claimed.run(on: context)
            // validate: the fault fired once; succeeded once, charged once, its images stored and kept
            #expect(try await Self.injected(fault, thrown: thrown, app: app) == 1, "the fault never fired")
            let after = try await harness.snapshot(jobID)
            #expect(after.status == "succeeded" && after.ledger == "settled" && after.lastEventSeq == after.seq, "\(after)")
            #expect(
                try await Self.count("SELECT COUNT(*) AS n FROM job_events WHERE type = 'job.succeeded' AND job_id = \(bind: jobID)", app)
                    == 1)
            #expect(try await Self.count("SELECT COUNT(*) AS n FROM spend_ledger WHERE job_id = \(bind: jobID)", app) == 1)
            let charged = try await app.db.sql.raw("SELECT settled_nano FROM spend_ledger WHERE job_id = \(bind: jobID)").first()
            #expect(try charged?.decode(column: "settled_nano", as: Int64?.self) == job.costOfDefaultUsage(app))
            let blobs = try await app.db.sql.raw("SELECT blob_key FROM images WHERE job_id = \(bind: jobID) AND role = 'output'").all()
                .map { try $0.decode(column: "blob_key", as: String.self) }
            #expect(blobs.count == 1)
            for blob in blobs { #expect(try await app.atelier.blobs.exists(try #require(BlobKey(blob))), "blob \(blob) deleted") }
            // the job's followers got its end once (delivered from the stored event when the answer was lost)
            await app.atelier.hub.unsubscribe(subscription)  // ends the stream after what it buffered
            var seen: [String] = []
            for await event in events { seen.append(event.type) }
            #expect(seen.filter { $0 == "job.succeeded" }.count == 1 && seen.last == "job.succeeded", "\(seen)")
            let retries = try await app.send(.GET, "v1/metrics").body.string.split(separator: "\n")
                .filter { $0.hasPrefix("atelier_commit_retries_total{") }
            #expect(retries.count == 1 && retries.allSatisfy { $0.hasSuffix(" 1") }, "\(retries)")
        }
    }

    /// A driver error that does not pass (a constraint violation) is not tried again: the job fails as before,
    /// charged the attempt's usage, and the blobs of its images, never committed, are deleted.
    @Test func aCommitRefusedForGoodIsNotTriedAgainAndItsImagesAreDeleted() async throws {
        let blobs = InMemoryBlobStore()
        try await Self.withClaimedJob(blobs: blobs) { claimed in
            // setup: the first try fails with a real unique violation
            let (app, harness, jobID) = (claimed.app, claimed.harness, claimed.jobID)
            var context = claimed.worker.context
            let error = try await TestDatabase.isPostgres ? RealPostgresError.raised(app, state: "23505") : RealSQLiteError.constraint()
            #expect(!TransientDatabaseError.isRetryableCommitFailure(error))
            let shots = Shots()
            context.lifecycleFault = { step in if step == .eventStored && shots.first() { throw error } }
            // MUT
            _ = await claimed.run(on: context)
            // validate: the refused commit, then the failure's own transition (a second try would have succeeded);
            // failed and charged, no image rows and no blobs left
            #expect(shots.count == 2)
            let failed = try #require(try await JobRecord.find(jobID, on: app.db))
            #expect(failed.status == "failed" && failed.errorCode == "internal_error")
            #expect(try await harness.snapshot(jobID).ledger == "settled")
            #expect(try await Self.count("SELECT COUNT(*) AS n FROM images WHERE job_id = \(bind: jobID)", app) == 0)
            #expect(await blobs.keys.isEmpty, "the uncommitted images' blobs were left behind")
        }
    }

    /// A commit that keeps failing goes on while its task is canceled (the heartbeat cancels a job whose cancel was
    /// asked, or whose row it sees no longer running) until it lands; at shutdown, once the worker's grace ran out
    /// and it canceled the task, it stops and leaves the job running: not failed, the reservation held, the image
    /// blobs kept (the lease expiry runs it again).
    @Test(arguments: [false, true])
    func aCommitThatKeepsFailingGoesOnUntilItLandsOrShutdownCancelsIt(shuttingDown: Bool) async throws {
        let blobs = InMemoryBlobStore()
        try await Self.withClaimedJob(blobs: blobs) { claimed in
            // setup: every try fails with a real driver error (three, or all at shutdown); the first one is signalled
            let (app, harness, jobID) = (claimed.app, claimed.harness, claimed.jobID)
            var context = claimed.worker.context
            let error = try await TestDatabase.isPostgres ? RealPostgresError.raised(app, state: "40P01") : RealSQLiteError.busy()
            let shots = Shots()
            let (failed, failing) = AsyncStream.makeStream(of: Void.self)
            context.lifecycleFault = { step in
                guard step == .eventStored else { return }
                let tries = shots.next()
                failing.yield()
                if shuttingDown || tries <= 3 { throw error }
            }
            // MUT: the job's task canceled after the first failure
            let run = Task { await claimed.run(on: context) { shuttingDown } }
            for await _ in failed { break }
            run.cancel()
            _ = await run.value
            // validate
            let after = try await harness.snapshot(jobID)
            let ended = try await Self.count(
                "SELECT COUNT(*) AS n FROM job_events WHERE type IN ('job.succeeded', 'job.failed') AND job_id = \(bind: jobID)", app)
            if shuttingDown {
                #expect(after.status == "running" && after.ledger == "reserved" && ended == 0, "\(after)")
                #expect(try await Self.count("SELECT COUNT(*) AS n FROM images WHERE job_id = \(bind: jobID)", app) == 0)
                #expect(await !blobs.keys.isEmpty, "the images were deleted though the commit may have landed")
            } else {
                #expect(shots.count == 4)
                #expect(after.status == "succeeded" && after.ledger == "settled" && ended == 1, "\(after)")
                let stored = try await app.db.sql.raw("SELECT blob_key FROM images WHERE job_id = \(bind: jobID)").all()
                    .map { try $0.decode(column: "blob_key", as: String.self) }
                let kept = await blobs.keys.map(\.value)
                #expect(stored.count == 1 && Set(stored) == Set(kept))
            }
        }
    }

    // MARK: Setup

    /// One queued job claimed by a fresh worker of a test app (the fake provider, `blobs` when given).
    struct Claimed {
        let app: Application
        let harness: JobLifecycleHarness
        let jobID: UUID
        let job: JobRecord
        let worker: JobWorker

        /// Runs the claimed job as the worker would, with `context` (armed by the test).
        func run(on context: WorkerContext, isShuttingDown: @escaping @Sendable () -> Bool = { false }) async -> JobRunner.Ending {
            await JobRunner(context: context, workerID: worker.id).run(job, isShuttingDown: isShuttingDown)
        }
    }

    static func withClaimedJob(blobs: (any BlobStore)? = nil, _ body: (Claimed) async throws -> Void) async throws {
        let clock = ManualClock()
        try await withTestApp(overrides: .init(provider: FakeImageProvider(), blobs: blobs, clock: clock.clock)) { app in
            let harness = JobLifecycleHarness(app: app, clock: clock)
            let jobID = try await harness.job(in: .queued)
            let worker = app.makeJobWorker()
            let job = try #require(try await worker.context.queue.claim(workerID: worker.id))
            try await body(Claimed(app: app, harness: harness, jobID: jobID, job: job, worker: worker))
        }
    }

    // MARK: Faults

    /// `context` with `fault` armed to fire once (counted in `thrown`; on PostgreSQL the trigger counts).
    static func failingOnce(_ fault: Fault, _ context: WorkerContext, app: Application, thrown: Shots) async throws -> WorkerContext {
        var context = context
        context.completions = fault == .sqliteBusyInGroupCommit ? app.atelier.completions : nil
        func once(_ error: any Error) -> @Sendable () throws -> Void {
            { [error] in if thrown.first() { throw error } }
        }
        switch fault {
        case .sqliteBusyInGroupCommit, .sqliteBusyOnWriter, .sqliteDiskFull:
            let error = try await fault == .sqliteDiskFull ? RealSQLiteError.full() : RealSQLiteError.busy()
            #expect(TransientDatabaseError.isRetryableCommitFailure(error))
            let fire = once(error)
            context.lifecycleFault = { step in if step == .eventStored { try fire() } }
        case .postgresDeadlockInOneStatement:
            try await installFailingTrigger(app, action: "RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01';")
        case .postgresDeadlockInTransaction:
            try await installFailingTrigger(app, action: "RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01';")
            context.lifecycleFault = { _ in }  // a hook set: the transactional path, not the one statement
        case .postgresConnectionTerminated:
            try await installFailingTrigger(app, action: "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(1);")
        case .answerLostAfterCommit:
            let error: any Error =
                if TestDatabase.isPostgres { try await RealPostgresError.raised(app, state: "08006") } else {
                    try await RealSQLiteError.busy()
                }
            let fire = once(error)
            context.afterSuccessCommit = { try fire() }
        }
        return context
    }

    /// A trigger that runs `action` on the first `job.succeeded` event stored (counted by a sequence, which a
    /// rollback does not undo).
    static func installFailingTrigger(_ app: Application, action: String) async throws {
        let sql = app.db.sql
        try await sql.raw("CREATE SEQUENCE succeeded_events_tried").run()
        try await sql.raw(
            """
            CREATE FUNCTION fail_first_success() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.type = 'job.succeeded' AND nextval('succeeded_events_tried') = 1 THEN \(unsafeRaw: action) END IF;
                RETURN NEW;
            END $$
            """
        ).run()
        try await sql.raw(
            "CREATE TRIGGER fail_first_success BEFORE INSERT ON job_events FOR EACH ROW EXECUTE FUNCTION fail_first_success()"
        ).run()
    }

    static func injected(_ fault: Fault, thrown: Shots, app: Application) async throws -> Int {
        switch fault {
        case .postgresDeadlockInOneStatement, .postgresDeadlockInTransaction, .postgresConnectionTerminated:
            // the first try fired it, the second passed: the sequence was taken twice
            return try await count("SELECT last_value - 1 AS n FROM succeeded_events_tried", app)
        default:
            return thrown.fired ? 1 : 0
        }
    }

    static func count(_ query: SQLQueryString, _ app: Application) async throws -> Int {
        try #require(try await app.db.sql.raw(query).first()?.decode(column: "n", as: Int.self))
    }
}

extension JobRecord {
    /// What the fake provider's usage costs on this job's model (the charge a success settles).
    fileprivate func costOfDefaultUsage(_ app: Application) -> Int64? {
        CostCalculator(registry: app.atelier.liveRegistry.current).cost(of: FakeImageProvider.defaultUsage, model: model)
            .map(CostCalculator.nanoDollars)
    }
}
