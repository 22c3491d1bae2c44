import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Rate limits (headers on every /v1 response, 429 + Retry-After), moderation=low for verified users only,
/// the `users create` / `keys create` commands, admin caps and registry overrides.
@Suite struct LimitsAndCommandsTests {
    @Test func everyV1ResponseCarriesRateLimitHeadersAnd429PastTheLimit() async throws {
        try await withAccountsApp(clock: .frozenAtWindowStart) { app in
            // setup
            let a = try await app.makeAccount("a@example.com")
            a.user.requestsPerMinute = 3
            try await a.user.update(on: app.db)
            // MUT
            var responses: [TestingHTTPResponse] = []
            for _ in 0..<4 { responses.append(try await app.send(.GET, "v1/jobs", headers: a.bearer)) }
            let missing = try await app.send(.GET, "v1/jobs/\(UUID())", headers: a.bearer)
            // validate
            #expect(responses.map(\.status.code) == [200, 200, 200, 429])
            #expect(responses.map { $0.headers.first(name: "X-RateLimit-Limit") } == ["3", "3", "3", "3"])
            #expect(responses.map { $0.headers.first(name: "X-RateLimit-Remaining") } == ["2", "1", "0", "0"])
            let reset = Int(responses[0].headers.first(name: "X-RateLimit-Reset") ?? "") ?? 0
            #expect((1...60).contains(reset))
            #expect(responses[3].errorCode == "rate_limited")
            #expect(Int(responses[3].headers.first(name: .retryAfter) ?? "") != nil)
            #expect(missing.status == .tooManyRequests)
            #expect(missing.headers.first(name: "X-RateLimit-Limit") == "3")
            for path in ["v1/auth/session", "v1/status", "v1/models"] {
                let anonymous = try await app.send(.GET, path)
                #expect(anonymous.headers.first(name: "X-RateLimit-Remaining") != nil, "\(path)")
            }
        }
    }

    @Test func imagesPerMinuteCountsImagesNotRequests() async throws {
        try await withAccountsApp(clock: .frozenAtWindowStart) { app in
            let a = try await app.makeAccount("a@example.com")
            a.user.imagesPerMinute = 5
            try await a.user.update(on: app.db)
            #expect(try await app.postJSON("v1/generate", ["prompt": "x", "n": 4], headers: a.bearer).status == .accepted)
            let refused = try await app.postJSON("v1/generate", ["prompt": "x", "n": 2], headers: a.bearer)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers.first(name: .retryAfter) != nil)
        }
    }

    @Test func moderationLowIsOnlyForVerifiedUsers() async throws {
        try await withAccountsApp { app in
            let member = try await app.makeAccount("m@example.com")
            let verified = try await app.makeAccount("v@example.com", verified: true)
            let body: [String: Any] = ["prompt": "x", "moderation": "low"]
            let refused = try await app.postJSON("v1/generate", body, headers: member.bearer)
            #expect(refused.status == .badRequest)
            #expect(refused.errorField == "moderation")
            #expect(try await app.postJSON("v1/generate", body, headers: verified.bearer).status == .accepted)
            #expect(try await app.postJSON("v1/generate", ["prompt": "x"], headers: member.bearer).status == .accepted)
        }
    }

    @Test func cliCreatesUsersAndKeysThroughTheCommandMachinery() async throws {
        try await withAccountsApp { app in
            func run(_ arguments: [String]) async throws {
                app.asyncCommands.use(UsersCommand(), as: "users")
                app.asyncCommands.use(KeysCommand(), as: "keys")
                var context = CommandContext(console: app.console, input: CommandInput(arguments: ["atelier"] + arguments))
                context.application = app
                try await app.console.run(app.asyncCommands.group(), with: context)
            }
            try await run(["users", "create", "Ops@Example.com", "--admin", "--verified", "--password", "a long passphrase"])
            let user = try #require(try await UserRecord.query(on: app.db).filter(\.$email == "ops@example.com").first())
            #expect(user.isAdmin && user.verified)
            try await run(["keys", "create", "ops@example.com", "--name", "ci"])
            let key = try #require(try await APIKeyRecord.query(on: app.db).filter(\.$user.$id == user.requireID()).first())
            #expect(key.name == "ci" && key.prefix.hasPrefix("atl_") && key.keyHash.count == 64)
            #expect(key.scopeSet == APIKeyScope.defaults)
            try await run(["keys", "create", "ops@example.com", "--name", "scraper", "--scopes", "metrics"])
            let scraper = try await APIKeyRecord.query(on: app.db).filter(\.$name == "scraper").first()
            #expect(scraper?.scopeSet == [.metrics])
            let issued = try await APIKeyIssuer(database: app.db, clock: app.atelier.clock).issue(for: user.requireID(), name: "x")
            #expect(
                try await app.send(.GET, "v1/me", headers: ["Authorization": "Bearer \(issued.secret)"]).json["email"] as? String
                    == "ops@example.com")
            let login = try await app.postJSON("v1/auth/login", ["email": "ops@example.com", "password": "a long passphrase"])
            #expect(login.status == .ok)
        }
    }

    @Test func adminsSetCapsAndEditTheRegistry() async throws {
        try await withAccountsApp { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com")
            let json = HTTPHeaders([("Content-Type", "application/json")])
            let patched = try await app.send(
                .PATCH, "v1/admin/users/\(a.user.requireID())", headers: admin.bearer.merging(json),
                body: ByteBuffer(string: #"{"verified": true, "daily_cap_usd": 0}"#))
            #expect(patched.json["verified"] as? Bool == true)
            let capped = try await app.postJSON("v1/generate", ["prompt": "x", "model": "gpt-image-1-mini"], headers: a.bearer)
            #expect(capped.errorCode == "spend_cap_reached")
            let repriced = try await app.send(
                .PATCH, "v1/admin/models/gpt-image-1-mini", headers: admin.bearer.merging(json),
                body: ByteBuffer(string: #"{"enabled": false}"#))
            #expect(repriced.status == .ok)
            let models = try await app.send(.GET, "v1/models").json["data"] as? [[String: Any]] ?? []
            #expect(!models.contains { $0["id"] as? String == "gpt-image-1-mini" })
            let price = try await app.send(
                .PATCH, "v1/admin/models/gpt-image-1.5", headers: admin.bearer.merging(json),
                body: ByteBuffer(
                    string: #"{"prices_per_million": {"text_input": 1, "image_input": 1, "image_output": 1, "text_output": 1}}"#))
            #expect(price.status == .ok)
            let estimate = try await app.postJSON(
                "v1/estimate", ["prompt": "abcd", "model": "gpt-image-1.5", "quality": "low", "size": "1024x1024"], headers: admin.bearer)
            #expect(estimate.json["estimated_cost_usd"] as? Double == Double(1 + 272) / 1_000_000)
            let spend = try await app.send(.GET, "v1/admin/spend?days=7", headers: admin.bearer).json
            #expect((spend["days"] as? [String])?.count == 7)
        }
    }
}
