import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor

/// The outbox and the dispatcher: deliveries are written with their event, signed, retried with back-off, end
/// `failed` after their window, can be re-sent, and never hold up jobs. Runs on SQLite and PostgreSQL.
@Suite struct WebhookDeliveryTests {
    @Test func aJobsEndQueuesItsDeliveryInTheSameTransaction() async throws {
        try await withTestApp(try .webhookTesting(), overrides: .init(provider: FakeImageProvider(), blobs: InMemoryBlobStore())) { app in
            let hook = try await app.registerWebhook("http://127.0.0.1:9/hook", events: ["job.succeeded"])
            let jobID = try await app.enqueueGenerate()
            let id = try #require(UUID(uuidString: jobID))
            // A transaction that records the event and then fails leaves neither the event nor a delivery.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await app.db.transaction { db in
                    _ = try await app.publisher().record("job.succeeded", jobID: id, on: db)
                    #expect(try await WebhookDeliveryRecord.query(on: db).count() == 1)
                    throw Abort()
                }
            }
            #expect(try await WebhookDeliveryRecord.query(on: app.db).count() == 0)
            // The worker's commit writes the delivery with the job's status (nothing is sent yet).
            try await app.drainJobs(app.makeJobWorker())
            let rows = try await app.deliveries(of: hook.id)
            #expect(rows.count == 1)
            #expect(rows.first?["event_type"] as? String == "job.succeeded" && rows.first?["status"] as? String == "pending")
            let stored = try #require(try await WebhookDeliveryRecord.query(on: app.db).first())
            let body = try JSONSerialization.jsonObject(with: Data(stored.payload.utf8)) as? [String: Any] ?? [:]
            #expect(body["type"] as? String == "job.succeeded")
            #expect(body[path: "data.job.id"] as? String == jobID && body[path: "data.job.status"] as? String == "succeeded")
        }
    }

    @Test func aDeliveryIsSignedAndRetriedUntilTheReceiverAccepts() async throws {
        let clock = ManualClock(1_800_000_000)
        // A redirect (back to the same URL) is not followed: it counts as a failed attempt.
        try await WebhookReceiver.run([.status(500), .redirect]) { receiver in
            try await withTestApp(
                try .webhookTesting(retryBase: 10),
                overrides: .init(provider: FakeImageProvider(), blobs: InMemoryBlobStore(), clock: clock.clock)
            ) { app in
                let hook = try await app.registerWebhook(receiver.url)
                let jobID = try await app.enqueueGenerate()
                try await app.drainJobs(app.makeJobWorker())
                let dispatcher = app.makeWebhookDispatcher()
                #expect(try await dispatcher.dispatchDue() == 1)
                clock.advance(by: 7)  // less than the shortest first back-off (7.5 s)
                #expect(try await dispatcher.dispatchDue() == 0)
                clock.advance(by: 3)
                #expect(try await dispatcher.dispatchDue() == 1)
                clock.advance(by: 20)
                #expect(try await dispatcher.dispatchDue() == 1)
                // validate: three attempts, the third accepted; same id each time, each signed for its own timestamp
                let delivery = try #require(try await app.deliveries(of: hook.id).first)
                #expect(delivery["status"] as? String == "delivered" && delivery["attempts"] as? Int == 3)
                #expect(delivery["last_status"] as? Int == 204)
                let log = try #require(delivery["attempt_log"] as? [[String: Any]])
                #expect(log.map { $0["status_code"] as? Int } == [500, 307, 204])
                #expect(log[1]["error"] as? String == "redirects are not followed")
                let requests = receiver.received
                try #require(requests.count == 3)
                #expect(Set(requests.map { $0.headers["webhook-id"] }).count == 1)
                let key = try #require(WebhookSigner.key(from: hook.secret))
                for request in requests {
                    let id = try #require(request.headers["webhook-id"])
                    let timestamp = try #require(Int(request.headers["webhook-timestamp"] ?? ""))
                    #expect(
                        request.headers["webhook-signature"]
                            == WebhookSigner.signature(id: id, timestamp: timestamp, body: request.body, key: key))
                    #expect(request.headers["content-type"] == "application/json")
                }
                #expect(Int(requests[0].headers["webhook-timestamp"] ?? "") == 1_800_000_000)
                #expect(Int(requests[2].headers["webhook-timestamp"] ?? "") == 1_800_000_030)
                let body = try JSONSerialization.jsonObject(with: requests[2].body) as? [String: Any] ?? [:]
                #expect(body[path: "data.job.id"] as? String == jobID)
                // The secret is never listed again.
                let listed = try await app.send(.GET, "v1/webhooks")
                #expect(!String(buffer: listed.body).contains(hook.secret.dropFirst(6)))
            }
        }
    }

    @Test func aReceiverDownForTheWholeWindowEndsFailedWithItsAttemptsListed() async throws {
        let clock = ManualClock(1_800_000_000)
        // Nothing listens: each attempt ends at the timeout (the shared client retries a refused connection until then).
        let down = try unusedLoopbackURL()
        try await withTestApp(
            try .webhookTesting(retryBase: 10, maxAge: 35, timeout: 1),
            overrides: .init(provider: FakeImageProvider(), blobs: InMemoryBlobStore(), clock: clock.clock)
        ) { app in
            let hook = try await app.registerWebhook(down, events: ["job.succeeded"])
            _ = try await app.enqueueGenerate()
            try await app.drainJobs(app.makeJobWorker())
            let dispatcher = app.makeWebhookDispatcher()
            var attempts = 0
            for _ in 0..<10 {
                attempts += try await dispatcher.dispatchDue()
                clock.advance(by: 10)
            }
            let delivery = try #require(try await app.deliveries(of: hook.id).first)
            #expect(delivery["status"] as? String == "failed", "\(delivery)")
            #expect(attempts == 3 && delivery["attempts"] as? Int == 3)
            let log = try #require(delivery["attempt_log"] as? [[String: Any]])
            #expect(log.map { $0["attempt"] as? Int } == [1, 2, 3])
            #expect(log.allSatisfy { $0["status_code"] is NSNull && ($0["error"] as? String)?.isEmpty == false })
            #expect(delivery["finished_at"] is String && delivery["next_attempt_at"] is NSNull)
            // Re-sent by hand: due at once with a fresh window, same webhook-id.
            let resent = try await app.send(.POST, "v1/webhooks/\(hook.id)/deliveries/\(try #require(delivery["id"] as? String))/resend")
            #expect(resent.status == .accepted && resent.json["status"] as? String == "pending")
            let again = try await app.send(.POST, "v1/webhooks/\(hook.id)/deliveries/\(try #require(delivery["id"] as? String))/resend")
            #expect(again.status == .conflict && again.errorCode == "delivery_pending")
            #expect(try await dispatcher.dispatchDue() == 1)
            #expect(try await app.deliveries(of: hook.id).first?["attempts"] as? Int == 4)
        }
    }

    @Test func resendingADeliveredEventSendsItAgainWithTheSameID() async throws {
        try await WebhookReceiver.run { receiver in
            try await withTestApp(try .webhookTesting(), overrides: .init(provider: FakeImageProvider(), blobs: InMemoryBlobStore())) {
                app in
                let hook = try await app.registerWebhook(receiver.url, events: ["job.canceled"])
                let jobID = try await app.enqueueGenerate()
                #expect(try await app.send(.POST, "v1/jobs/\(jobID)/cancel").status == .ok)
                let dispatcher = app.makeWebhookDispatcher()
                #expect(try await dispatcher.dispatchDue() == 1)
                let delivery = try #require(try await app.deliveries(of: hook.id).first)
                #expect(delivery["event_type"] as? String == "job.canceled" && delivery["status"] as? String == "delivered")
                let path = "v1/webhooks/\(hook.id)/deliveries/\(try #require(delivery["id"] as? String))/resend"
                #expect(try await app.send(.POST, path).status == .accepted)
                #expect(try await dispatcher.dispatchDue() == 1)
                let requests = receiver.received
                try #require(requests.count == 2)
                #expect(requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"])
                #expect(requests[0].headers["webhook-id"] == delivery["message_id"] as? String)
            }
        }
    }

    @Test func aReceiverThatHangsNeverDelaysJobs() async throws {
        // Retries hang too: on a loaded machine an attempt may reach its 30 s timeout and be sent again, and a
        // used-up script would answer that retry 204.
        try await WebhookReceiver.run(Array(repeating: .hang, count: 64)) { receiver in
            var config = try AtelierConfig.webhookTesting()
            config.webhooks.timeoutSeconds = 30
            config.webhooks.pollSeconds = 0.05
            try await withTestApp(config, overrides: .init(provider: FakeImageProvider(), blobs: InMemoryBlobStore())) { app in
                _ = try await app.registerWebhook(receiver.url, events: ["job.succeeded"])
                let (_, stopWorker) = app.runWorker()
                let stopDispatcher = app.startWebhookDispatcher()
                for _ in 0..<3 {
                    let jobID = try await app.enqueueGenerate()
                    #expect(try await app.awaitEnd(of: jobID)["status"] as? String == "succeeded")
                }
                // Every job ended while the receiver held (or had not yet been sent) its delivery: the receiver never
                // answers, so any attempt recorded by now is one that reached its timeout on a loaded machine.
                #expect(try await WebhookAttemptRecord.query(on: app.db).all().allSatisfy { $0.statusCode == nil })
                #expect(try await WebhookDeliveryRecord.query(on: app.db).filter(\.$status == "pending").count() == 3)
                // The three deliveries are held at once (bounded concurrency, not one after another).
                // (No attempt count here: on a loaded machine an attempt may reach its 30 s timeout by now.)
                await receiver.waitForRequests(3)
                await stopDispatcher()
                await stopWorker()
            }
        }
    }

    @Test func dispatchersClaimingTogetherSendEachDeliveryOnce() async throws {
        // A standing clock: on a loaded machine the run can outlast a claim's lease, and an expired lease is
        // (rightly) claimed again, which is not what this test is about.
        let overrides = ServiceOverrides(provider: FakeImageProvider(), blobs: InMemoryBlobStore(), clock: ManualClock(1_794_744_000).clock)
        try await WebhookReceiver.run { receiver in
            try await withTestApp(try .webhookTesting(), overrides: overrides) { app in
                _ = try await app.registerWebhook(receiver.url, events: ["job.failed"])
                let outbox = WebhookOutbox(database: app.db, clock: app.atelier.clock)
                for index in 0..<40 { try await outbox.enqueue("job.failed", owner: "local", data: ["n": index]) }
                // Three dispatchers (as in three processes) claim at the same time until nothing is due.
                let dispatchers = (0..<3).map { _ in app.makeWebhookDispatcher() }
                let attempted = try await withThrowingTaskGroup(of: Int.self) { group in
                    for dispatcher in dispatchers {
                        group.addTask {
                            var total = 0
                            while case let sent = try await dispatcher.dispatchDue(), sent > 0 { total += sent }
                            return total
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(attempted == 40)
                let ids = receiver.received.compactMap { $0.headers["webhook-id"] }
                #expect(ids.count == 40 && Set(ids).count == 40)
                #expect(try await WebhookDeliveryRecord.query(on: app.db).filter(\.$status == "delivered").count() == 40)
            }
        }
    }
}
