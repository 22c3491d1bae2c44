import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// Sign-up, sign-in, cookies and CSRF: cookie-authenticated writes need the session's token and a same-site origin.
@Suite struct SessionAndCSRFTests {
    @Test func crossSiteCookiePostWithoutTheTokenIsRefused() async throws {
        let provider = FakeImageProvider()
        try await withAccountsApp(provider: provider) { app in
            // setup
            let a = try await app.makeAccount("a@example.com")
            let body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: ["prompt": "forged"]))
            var forged = a.browser
            forged.remove(name: "X-CSRF-Token")
            forged.contentType = .json
            forged.replaceOrAdd(name: .origin, value: "https://evil.example")
            forged.replaceOrAdd(name: "Sec-Fetch-Site", value: "cross-site")
            var noToken = a.browser
            noToken.remove(name: "X-CSRF-Token")
            noToken.contentType = .json
            var wrongToken = a.browser
            wrongToken.replaceOrAdd(name: "X-CSRF-Token", value: "guess")
            wrongToken.contentType = .json
            var withTokenCrossSite = a.browser
            withTokenCrossSite.contentType = .json
            withTokenCrossSite.replaceOrAdd(name: .origin, value: "https://evil.example")
            // MUT
            for headers in [forged, noToken, wrongToken, withTokenCrossSite] {
                let response = try await app.send(.POST, "v1/generate", headers: headers, body: body)
                #expect(response.status == .forbidden)
                #expect(["csrf_failed", "cross_site_refused"].contains(response.errorCode ?? ""))
            }
            var good = a.browser
            good.contentType = .json
            good.replaceOrAdd(name: .origin, value: "http://localhost:8080")
            let accepted = try await app.send(.POST, "v1/generate", headers: good, body: body)
            // validate
            #expect(accepted.status == .accepted)
            let jobs = try await app.send(.GET, "v1/jobs", headers: a.bearer).json["data"] as? [Any]
            #expect(jobs?.count == 1)
            var readOnly = a.browser
            readOnly.remove(name: "X-CSRF-Token")
            #expect(try await app.send(.GET, "v1/jobs", headers: readOnly).status == .ok)
        }
    }

    @Test func sessionCookiesAreHttpOnlySameSiteAndSecureOverTLS() async throws {
        try await withAccountsApp { app in
            _ = try await app.makeAccount("ada@example.com")
            let response = try await app.postJSON(
                "v1/auth/login", ["email": "Ada@Example.com", "password": TestAccount.password],
                headers: ["X-Forwarded-Proto": "https"])
            #expect(response.status == .ok)
            #expect(response.json[path: "user.role"] as? String == "member")
            #expect(response.json[path: "user.email"] as? String == "ada@example.com")
            #expect(response.json[path: "user.consent_at"] != nil)
            let cookies = response.headers[.setCookie]
            let session = try #require(cookies.first { $0.hasPrefix("atelier_session=") }).lowercased()
            #expect(session.contains("httponly") && session.contains("samesite=lax") && session.contains("secure"))
            let csrf = try #require(cookies.first { $0.hasPrefix("atelier_csrf=") }).lowercased()
            #expect(!csrf.contains("httponly") && csrf.contains("samesite=strict"))
        }
    }

    @Test func signupNeedsConsent() async throws {
        try await withAccountsApp { app in
            let refused = try await app.postJSON("v1/auth/signup", ["email": "c@example.com", "password": TestAccount.password])
            #expect(refused.errorField == "consent")
            #expect(try await UserRecord.query(on: app.db).count() == 0)
        }
    }

    @Test func logoutEndsTheSession() async throws {
        try await withAccountsApp { app in
            let a = try await app.makeAccount("a@example.com")
            #expect(try await app.send(.GET, "v1/me", headers: a.browser).status == .ok)
            #expect(try await app.send(.POST, "v1/auth/logout", headers: a.browser).status == .noContent)
            #expect(try await app.send(.GET, "v1/me", headers: a.browser).status == .unauthorized)
            let session = try await app.send(.GET, "v1/auth/session").json
            #expect(session["authenticated"] as? Bool == false)
            #expect(session["login_required"] as? Bool == true)
        }
    }

    @Test func bindHostDecidesWhetherLoginMayBeOff() {
        #expect(bindHost(["atelier", "serve"]) == "127.0.0.1")
        #expect(bindHost(["atelier", "serve", "--hostname", "0.0.0.0"]) == "0.0.0.0")
        #expect(bindHost(["atelier", "serve", "-b", "[::1]:8080"]) == "::1")
        #expect(CallerResolver.isLoopbackHost("127.0.0.1") && CallerResolver.isLoopbackHost("::1"))
        #expect(!CallerResolver.isLoopbackHost("0.0.0.0"))
        var problems: [String] = []
        #expect(AtelierConfig.Access.fromEnvironment([:], problems: &problems).loginRequired)
        #expect(!AtelierConfig.Access.fromEnvironment(["ATELIER_AUTH": "off"], problems: &problems).loginRequired)
        #expect(problems.isEmpty)
    }
}
