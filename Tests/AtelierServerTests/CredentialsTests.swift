import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Key scopes on every route, session + password for keys, export and deletion, password change and "sign out
/// everywhere", admin suspend, and the sign-in throttle (per email and per address, back-off, no lock-out).
@Suite struct CredentialsTests {
    @Test func aKeyReachesOnlyTheRoutesOfItsScopes() async throws {
        try await withAccountsApp { app in
            let admin = try await app.makeAccount("root@example.com", admin: true, scopes: APIKeyScope.defaults)
            let readOnly = try await app.makeAccount("reader@example.com", scopes: [.read])
            let writeOnly = try await app.makeAccount("writer@example.com", scopes: [.generate])
            let metricsOnly = try await app.makeAccount("scraper@example.com", admin: true, scopes: [.metrics])
            let cases: [(TestAccount, HTTPMethod, String, HTTPResponseStatus)] = [
                (admin, .GET, "v1/admin/users", .forbidden),  // an admin's default key has no admin scope
                (admin, .GET, "v1/metrics", .forbidden),
                (admin, .GET, "v1/jobs", .ok),
                (readOnly, .GET, "v1/jobs", .ok),
                (readOnly, .POST, "v1/generate", .forbidden),
                (writeOnly, .GET, "v1/jobs", .forbidden),
                (writeOnly, .POST, "v1/generate", .accepted),
                (metricsOnly, .GET, "v1/metrics", .ok),
                (metricsOnly, .GET, "v1/admin/users", .forbidden),
                (metricsOnly, .GET, "v1/jobs", .forbidden),
            ]
            for (account, method, path, expected) in cases {
                let response =
                    method == .GET
                    ? try await app.send(method, path, headers: account.bearer)
                    : try await app.postJSON(path, ["prompt": "x"], headers: account.bearer)
                #expect(response.status == expected, "\(account.user.email) \(method) \(path)")
                if expected == .forbidden { #expect(response.errorCode == "insufficient_scope") }
            }
            // scopes when creating a key: defaults, explicit, and admin-only scopes refused to members
            let member = try await app.makeAccount("m@example.com")
            let plain = try await app.postJSON("v1/me/keys", ["name": "a", "password": TestAccount.password], headers: member.browser)
            #expect(plain.status == .created && plain.json["scopes"] as? [String] == ["generate", "read"])
            let grab = try await app.postJSON(
                "v1/me/keys", ["name": "b", "scopes": ["admin"], "password": TestAccount.password], headers: member.browser)
            #expect(grab.status == .badRequest && grab.errorField == "scopes")
            let rootSession = try await app.postJSON(
                "v1/me/keys", ["name": "c", "scopes": ["metrics"], "password": TestAccount.password], headers: admin.browser)
            #expect(rootSession.json["scopes"] as? [String] == ["metrics"])
        }
    }

    @Test func keysExportAndDeletionNeedASessionAndThePassword() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("a@example.com")
            let attempts: [(HTTPMethod, String)] = [(.POST, "v1/me/keys"), (.POST, "v1/me/export"), (.DELETE, "v1/me")]
            for (method, path) in attempts {
                let byKey = try await app.sendJSON(method, path, ["password": TestAccount.password], headers: a.bearer)
                #expect(byKey.status == .forbidden && byKey.errorCode == "session_required", "\(path)")
                let noPassword = try await app.sendJSON(method, path, [:], headers: a.browser)
                #expect(noPassword.status == .badRequest && noPassword.errorField == "password", "\(path)")
                let wrong = try await app.sendJSON(method, path, ["password": "not the password"], headers: a.browser)
                #expect(wrong.status == .forbidden && wrong.errorCode == "wrong_password", "\(path)")
            }
            #expect(try await app.send(.GET, "v1/me/keys", headers: a.bearer).errorCode == "session_required")
            #expect(try await app.send(.GET, "v1/me", headers: a.bearer).status == .ok, "nothing was deleted")
            let key = try await app.postJSON("v1/me/keys", ["name": "k", "password": TestAccount.password], headers: a.browser)
            #expect(key.status == .created)
        }
    }

    @Test func changingThePasswordEndsEveryOtherSessionAndSignOutEverywhereEndsAll() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("a@example.com")
            let (other, _) = try await app.signIn("a@example.com")
            let third = try await app.signIn("a@example.com")
            let otherHeaders: HTTPHeaders = ["Cookie": "atelier_session=\(other)"]
            #expect(try await app.send(.GET, "v1/me", headers: otherHeaders).status == .ok)
            // MUT: change from the first session
            let changed = try await app.postJSON(
                "v1/me/password", ["current_password": TestAccount.password, "new_password": "a brand new secret"], headers: a.browser)
            // validate
            #expect(changed.status == .noContent)
            #expect(try await app.send(.GET, "v1/me", headers: a.browser).status == .ok, "this session stays")
            #expect(try await app.send(.GET, "v1/me", headers: otherHeaders).status == .unauthorized)
            #expect(
                try await app.postJSON("v1/auth/login", ["email": "a@example.com", "password": TestAccount.password]).status
                    == .unauthorized)
            _ = third
            let (fresh, csrf) = try await app.signIn("a@example.com", password: "a brand new secret")
            // sign out everywhere
            let everywhere = try await app.send(.DELETE, "v1/me/sessions", headers: a.browser)
            #expect(everywhere.status == .noContent)
            #expect(try await app.send(.GET, "v1/me", headers: a.browser).status == .unauthorized)
            #expect(
                try await app.send(.GET, "v1/me", headers: ["Cookie": "atelier_session=\(fresh); atelier_csrf=\(csrf)"]).status
                    == .unauthorized)
            #expect(try await app.send(.GET, "v1/me", headers: a.bearer).status == .ok, "API keys are not sessions")
        }
    }

    @Test func aSuspendedUsersKeysAndSessionsStopAtOnce() async throws {
        try await withAccountsApp { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com")
            #expect(try await app.send(.GET, "v1/jobs", headers: a.bearer).status == .ok)
            // MUT
            let suspend = try await app.sendJSON(.PATCH, "v1/admin/users/\(a.owner)", ["status": "suspended"], headers: admin.bearer)
            // validate
            #expect(suspend.status == .ok)
            let byKey = try await app.send(.GET, "v1/jobs", headers: a.bearer)
            #expect(byKey.status == .forbidden && byKey.errorCode == "account_suspended")
            #expect(try await app.send(.GET, "v1/jobs", headers: a.browser).status == .unauthorized)
            let login = try await app.postJSON("v1/auth/login", ["email": "a@example.com", "password": TestAccount.password])
            #expect(login.status == .forbidden && login.errorCode == "account_suspended")
            let lastAdmin = try await app.sendJSON(.PATCH, "v1/admin/users/\(admin.owner)", ["status": "suspended"], headers: admin.bearer)
            #expect(lastAdmin.errorCode == "last_admin")
            _ = try await app.sendJSON(.PATCH, "v1/admin/users/\(a.owner)", ["status": "active"], headers: admin.bearer)
            #expect(try await app.send(.GET, "v1/jobs", headers: a.bearer).status == .ok)
        }
    }

    @Test func failedSignInsBackOffPerEmailAndAddressWithoutLockingTheOwnerOut() async throws {
        let clock = ManualClock(1_800_000_000)
        try await withAccountsApp(clock: clock.clock) { app in
            _ = try await app.makeAccount("c@example.com")
            let wrong = ["email": "c@example.com", "password": "wrong password!"]
            for _ in 0..<LoginThrottle.pairRule.freeFailures {
                #expect(try await app.postJSON("v1/auth/login", wrong).status == .unauthorized)
            }
            // MUT: the right password, right after the guesses, from the guesser's address
            let throttled = try await app.postJSON("v1/auth/login", ["email": "c@example.com", "password": TestAccount.password])
            #expect(throttled.status == .tooManyRequests && throttled.errorCode == "login_throttled")
            #expect(throttled.headers.first(name: .retryAfter) == "1")
            clock.advance(by: 1.5)
            _ = try await app.signIn("c@example.com")
            // Per address and per email, directly: the owner elsewhere is never locked out for long.
            let throttle = LoginThrottle(database: app.db, clock: clock.clock)
            for index in 0..<200 {
                try? await throttle.failed(email: "d@example.com", address: "198.51.100.\(index % 50)")
            }
            await #expect(throws: APIError.self) { try await throttle.check(email: "d@example.com", address: "203.0.113.9") }
            clock.advance(by: LoginThrottle.emailRule.maxDelaySeconds + 1)
            try await throttle.check(email: "d@example.com", address: "203.0.113.9")
            // an address that guessed many emails waits, for every email
            for index in 0..<30 { try await throttle.failed(email: "x\(index)@example.com", address: "192.0.2.1") }
            await #expect(throws: APIError.self) { try await throttle.check(email: "fresh@example.com", address: "192.0.2.1") }
            try await throttle.check(email: "fresh@example.com", address: "192.0.2.2")
        }
    }

    @Test func aKeyAndItsUserAreReadOnEveryRequestSoRevocationScopesAndLimitsApplyAtOnce() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("a@example.com")
            let sql = app.db as! any SQLDatabase
            // used: the one joined read resolves the caller and stamps the key's last use
            #expect(try await app.send(.GET, "v1/jobs", headers: a.bearer).status == .ok)
            let used = try await sql.raw("SELECT last_used_at FROM api_keys").first()?.decode(column: "last_used_at", as: Double?.self)
            #expect(used != nil)
            // a user limit changed in the database applies to the next request
            try await sql.raw("UPDATE users SET requests_per_minute = 999 WHERE email = 'a@example.com'").run()
            let limited = try await app.send(.GET, "v1/jobs", headers: a.bearer)
            #expect(limited.headers.first(name: "X-RateLimit-Limit") == "999")
            // a scope taken away applies to the next request
            try await sql.raw("UPDATE api_keys SET scopes = 'read'").run()
            let refused = try await app.postJSON("v1/generate", ["prompt": "x"], headers: a.bearer)
            #expect(refused.status == .forbidden, "\(refused.json)")
            // revoked: the next request is refused
            try await sql.raw("UPDATE api_keys SET revoked_at = 1").run()
            let revoked = try await app.send(.GET, "v1/jobs", headers: a.bearer)
            #expect(revoked.status == .unauthorized && revoked.errorCode == "invalid_api_key")
        }
    }
}
