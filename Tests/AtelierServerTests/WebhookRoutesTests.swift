import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// `/v1/webhooks`: bad input, limits, ownership, and the events that are not job events.
@Suite struct WebhookRoutesTests {
    @Test func badRegistrationsGetFieldErrors() async throws {
        var config = try AtelierConfig.testing()
        config.webhooks.maxPerOwner = 2
        config.webhooks.maxURLLength = 200
        try await withTestApp(config) { app in
            let cases: [([String: Any], String, String)] = [
                (["url": "https://8.8.8.8/hook", "events": ["job.done"]], "events", "job.done"),
                (["url": "https://8.8.8.8/hook", "events": []], "events", "job.succeeded"),
                (["url": "https://8.8.8.8/hook"], "events", "spend.cap_reached"),
                (["events": ["job.failed"]], "url", "required"),
                (["url": "http://127.0.0.1:8080/hook", "events": ["job.failed"]], "url", "private"),
                (["url": "http://[::ffff:10.0.0.1]/hook", "events": ["job.failed"]], "url", "private"),
                (["url": "gopher://8.8.8.8/", "events": ["job.failed"]], "url", "http"),
                (["url": "https://8.8.8.8/" + String(repeating: "x", count: 200), "events": ["job.failed"]], "url", "200"),
            ]
            for (body, field, mention) in cases {
                let response = try await app.postJSON("v1/webhooks", body)
                #expect(response.status == .badRequest && response.errorField == field, "\(body) → \(response.json)")
                let message = (response.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains(mention), "\(message)")
            }
            #expect(try await WebhookRecord.query(on: app.db).count() == 0)
            // Two endpoints at most; repeated types are kept once.
            let first = try await app.postJSON(
                "v1/webhooks", ["url": "https://8.8.8.8/a", "events": ["job.failed", "job.failed", "job.succeeded"]])
            #expect(first.status == .created && first.json["events"] as? [String] == ["job.succeeded", "job.failed"])
            #expect((first.json["secret"] as? String)?.hasPrefix("whsec_") == true)
            #expect(try await app.postJSON("v1/webhooks", ["url": "https://8.8.8.8/b", "events": ["job.failed"]]).status == .created)
            let third = try await app.postJSON("v1/webhooks", ["url": "https://8.8.8.8/c", "events": ["job.failed"]])
            #expect(third.status == .conflict && third.errorCode == "too_many_webhooks")
        }
    }

    @Test func anotherUsersEndpointsAnswer404AndAdminsSeeEveryones() async throws {
        var config = try AtelierConfig.webhookTesting(access: .accountsTesting)
        config.webhooks.allowPrivate = true
        try await withTestApp(config, overrides: .init(provider: FakeImageProvider(), blobs: InMemoryBlobStore())) { app in
            let admin = try await app.makeAccount("admin@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com")
            let b = try await app.makeAccount("b@example.com")
            let hook = try await app.registerWebhook("http://127.0.0.1:9/a", headers: a.bearer)
            _ = try await app.finishedJob(as: a)
            let deliveryID = try #require(try await app.deliveries(of: hook.id, headers: a.bearer).first?["id"] as? String)
            for credentials in [b.bearer, b.browser] {
                for (method, path) in [
                    (HTTPMethod.DELETE, "v1/webhooks/\(hook.id)"), (.GET, "v1/webhooks/\(hook.id)/deliveries"),
                    (.POST, "v1/webhooks/\(hook.id)/deliveries/\(deliveryID)/resend"),
                ] {
                    let response = try await app.send(method, path, headers: credentials)
                    #expect(response.status == .notFound, "\(method) \(path)")
                    #expect(!String(buffer: response.body).contains(hook.id))
                }
                let listed = try await app.send(.GET, "v1/webhooks?all=true", headers: credentials)
                #expect(listed.status == .ok && !String(buffer: listed.body).contains(hook.id))
            }
            // B's own job events never reach A's endpoint.
            _ = try await app.finishedJob(as: b)
            #expect(try await app.deliveries(of: hook.id, headers: a.bearer).count == 1)
            // An admin lists everyone's endpoints and reads their log.
            let all = try await app.send(.GET, "v1/webhooks?all=true", headers: admin.bearer)
            #expect(String(buffer: all.body).contains(hook.id))
            #expect(try await app.deliveries(of: hook.id, headers: admin.bearer).count == 1)
            // Deleting removes the endpoint and its log.
            #expect(try await app.send(.DELETE, "v1/webhooks/\(hook.id)", headers: a.browser).status == .noContent)
            #expect(try await WebhookDeliveryRecord.query(on: app.db).count() == 0)
        }
    }

    @Test func aSpendingCapRefusalIsAnnouncedOncePerDay() async throws {
        try await withAccountsApp(access: .accountsTesting, clock: .frozenAtWindowStart) { app in
            let a = try await app.makeAccount("a@example.com")
            a.user.dailyCapNano = 1
            try await a.user.update(on: app.db)
            let hook = try await app.postJSON(
                "v1/webhooks", ["url": "https://8.8.8.8/hook", "events": ["spend.cap_reached"]], headers: a.bearer)
            let hookID = try #require(hook.json["id"] as? String)
            for _ in 0..<2 {
                let refused = try await app.postJSON("v1/generate", ["prompt": "too dear"], headers: a.bearer)
                #expect(refused.status == .tooManyRequests && refused.errorCode == "spend_cap_reached")
            }
            let rows = try await app.deliveries(of: hookID, headers: a.bearer)
            #expect(rows.count == 1 && rows.first?["event_type"] as? String == "spend.cap_reached")
            let stored = try #require(try await WebhookDeliveryRecord.query(on: app.db).first())
            #expect(stored.payload.contains("daily spending cap"))
        }
    }

    @Test func modelsNearTheirShutdownDateAreAnnouncedOncePerEndpoint() async throws {
        var registry = try ModelRegistry.bundled()
        for index in registry.models.indices { registry.models[index].shutdownDate = nil }
        registry.models[0].shutdownDate = "2027-01-20"  // 19 days after the clock below
        registry.models[1].shutdownDate = "2027-06-01"  // too far ahead
        let clock = AtelierClock { 1_798_761_600 }  // 2027-01-01T00:00:00Z
        try await withTestApp(try .testing(), overrides: .init(clock: clock)) { app in
            let hook = try await app.postJSON("v1/webhooks", ["url": "https://8.8.8.8/hook", "events": ["model.shutdown_soon"]])
            let hookID = try #require(hook.json["id"] as? String)
            let notices = WebhookNotices(database: app.db, clock: clock)
            #expect(try await notices.modelsShuttingDown(in: registry) == 1)
            #expect(try await notices.modelsShuttingDown(in: registry) == 0)
            let stored = try #require(try await WebhookDeliveryRecord.query(on: app.db).first())
            let body = try JSONSerialization.jsonObject(with: Data(stored.payload.utf8)) as? [String: Any] ?? [:]
            #expect(body[path: "data.model"] as? String == registry.models[0].id)
            #expect(body[path: "data.days_left"] as? Int == 19 && body[path: "data.shutdown_date"] as? String == "2027-01-20")
            #expect(try await app.deliveries(of: hookID).count == 1)
        }
    }
}

/// Admins' endpoints for every user's events, and what deleting an account takes with it.
@Suite struct WebhookAdminTests {
    @Test func anAdminEndpointForEveryoneHearsEachUsersEventsAndAccountDeletionRemovesTheirs() async throws {
        try await withTestApp(
            try .webhookTesting(access: .accountsTesting), overrides: .init(provider: FakeImageProvider(), blobs: InMemoryBlobStore())
        ) { app in
            let admin = try await app.makeAccount("admin@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com")
            // Only admins may ask for everyone's events.
            let refused = try await app.postJSON(
                "v1/webhooks", ["url": "http://127.0.0.1:9/a", "events": ["job.succeeded"], "all_users": true], headers: a.bearer)
            #expect(refused.status == .forbidden && refused.errorField == "all_users")
            let everyone = try await app.postJSON(
                "v1/webhooks", ["url": "http://127.0.0.1:9/all", "events": ["job.succeeded"], "all_users": true], headers: admin.bearer)
            #expect(everyone.status == .created && everyone.json["all_users"] as? Bool == true && everyone.json["owner"] as? String == "*")
            let everyoneID = try #require(everyone.json["id"] as? String)
            let mine = try await app.registerWebhook("http://127.0.0.1:9/a", events: ["job.succeeded"], headers: a.bearer)
            let job = try await app.finishedJob(as: a)
            // Both endpoints get A's event, which names its owner; A's list never shows the admin's endpoint.
            let heard = try await app.deliveries(of: everyoneID, headers: admin.bearer)
            let own = try await app.deliveries(of: mine.id, headers: a.bearer)
            #expect(heard.count == 1 && own.count == 1)
            let stored = try #require(try await WebhookDeliveryRecord.query(on: app.db).filter(\.$owner == "*").first())
            let body = try JSONSerialization.jsonObject(with: Data(stored.payload.utf8)) as? [String: Any] ?? [:]
            #expect(body["owner"] as? String == a.owner && body[path: "data.job.id"] as? String == job["id"] as? String)
            let listedForA = try await app.send(.GET, "v1/webhooks", headers: a.bearer)
            let listedForAdmin = try await app.send(.GET, "v1/webhooks", headers: admin.bearer)
            #expect(!String(buffer: listedForA.body).contains(everyoneID) && String(buffer: listedForAdmin.body).contains(everyoneID))
            // Deleting A removes A's endpoint and A's events from the admin's log too.
            #expect(try await app.sendJSON(.DELETE, "v1/me", ["password": TestAccount.password], headers: a.browser).status == .noContent)
            #expect(try await WebhookRecord.query(on: app.db).count() == 1)
            #expect(try await WebhookDeliveryRecord.query(on: app.db).count() == 0)
            #expect(try await app.deliveries(of: everyoneID, headers: admin.bearer).isEmpty)
        }
    }
}
