import Fluent
import Foundation
import SQLKit
import Vapor

/// Deletes an account and everything of it: jobs (canceled first, batches' jobs included), images and their blobs,
/// batches, events, spend rows (reservations included), rate counters, webhooks (and its events queued for others'
/// endpoints), API keys, sessions, and the user row. Crash-safe by order: the user row goes last, in the same
/// transaction as the batches and ledger, so an interrupted deletion is finished by deleting the account again.
struct AccountDeleter {
    let app: Application

    func delete(_ user: UserRecord) async throws {
        let userID = try user.requireID()
        let owner = user.ownerKey
        let running = try await app.lifecycle().endForDeletedAccount(owner: owner)
        for id in running { app.jobWorker?.cancel(id) }
        let deleter = JobDeleter(app: app)
        for job in try await JobRecord.query(on: app.db).filter(\.$owner == owner).all() {
            try await deleter.delete(job)
        }
        let store = ImageStore(database: app.db, blobs: app.atelier.blobs, clock: app.atelier.clock)
        for image in try await ImageRecord.query(on: app.db).filter(\.$owner == owner).all() {
            try await image.delete(on: app.db)
            await store.deleteBlobs(of: image)
        }
        let keyIDs = try await APIKeyRecord.query(on: app.db).filter(\.$user.$id == userID).all(\.$id)
        let counted: [RateLimitSubject.Counted] = [.requests, .images]
        let counters = counted.flatMap { kind in [.owner(kind, owner)] + keyIDs.map { RateLimitSubject.apiKey(kind, $0) } }
            .map(\.stored)
        // Hits decided but not stored yet (this request's own, on SQLite) are stored first, so none recreates a
        // counter after its deletion.
        let riders = app.atelier.requestCounts.take()
        do {
            try await deleteRows(userID: userID, owner: owner, email: user.email, counters: counters, storing: riders)
        } catch {
            app.atelier.requestCounts.settle(riders, stored: false, on: app.db)
            throw error
        }
        app.atelier.requestCounts.settle(riders, stored: true, on: app.db)
    }

    private func deleteRows(
        userID: UUID, owner: String, email: String, counters: [String], storing riders: [RequestHitCounts.Pending]
    ) async throws {
        try await app.db.transaction { db in
            let sql = db.sql
            try await RequestHitCounts.store(riders, on: db)
            try await sql.raw("DELETE FROM job_events WHERE owner = \(bind: owner)").run()
            try await sql.raw("DELETE FROM batches WHERE owner = \(bind: owner)").run()
            try await sql.raw("DELETE FROM spend_ledger WHERE owner = \(bind: owner)").run()
            try await sql.raw("DELETE FROM spend_periods WHERE subject = \(bind: owner)").run()
            for subject in counters { try await sql.raw("DELETE FROM rate_counters WHERE subject = \(bind: subject)").run() }
            let pair = "pair:\(email)|"
            try await sql.raw(
                """
                DELETE FROM login_throttle WHERE subject = \(bind: "email:" + email)
                OR SUBSTR(subject, 1, CAST(\(bind: pair.unicodeScalars.count) AS INTEGER)) = \(bind: pair)
                """
            ).run()
            try await WebhookCleanup.delete(owner: owner, on: db)
            try await APIKeyRecord.query(on: db).filter(\.$user.$id == userID).delete()
            try await SessionRecord.query(on: db).filter(\.$user.$id == userID).delete()
            try await UserRecord.query(on: db).filter(\.$id == userID).delete()
        }
    }
}
