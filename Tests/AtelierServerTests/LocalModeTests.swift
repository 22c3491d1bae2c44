import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// Login off (`ATELIER_AUTH=off`): only loopback Host values, nothing a proxy forwarded, and the CSRF token on
/// writes made without a bearer token (the studio reads it from the `atelier_csrf` cookie Atelier sets).
@Suite struct LocalModeTests {
    @Test func onlyLoopbackHostValuesAreAnswered() async throws {
        try await withTestApp { app in
            for host in ["localhost", "localhost:8080", "127.0.0.1:9", "[::1]", "[::1]:8080", "LOCALHOST"] {
                #expect(try await app.send(.GET, "v1/jobs", headers: ["Host": host]).status == .ok, "\(host)")
            }
            for host in ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "evil.example:8080", "[::2]", "localhost:80x"] {
                let response = try await app.send(.GET, "v1/jobs", headers: ["Host": host])
                #expect(response.status == .misdirectedRequest && response.errorCode == "host_refused", "\(host)")
            }
            #expect(try await app.send(.GET, "/", headers: ["Host": "rebound.evil.example"]).status == .misdirectedRequest)
        }
    }

    @Test func proxiedRequestsAreRefused() async throws {
        try await withTestApp { app in
            for (name, value) in [("X-Forwarded-For", "203.0.113.7"), ("Forwarded", "for=203.0.113.7")] {
                let response = try await app.send(.GET, "v1/jobs", headers: ["Host": "localhost", name: value])
                #expect(response.status == .forbidden && response.errorCode == "proxy_refused", "\(name)")
            }
        }
    }

    @Test func writesWithoutABearerTokenNeedTheCSRFTokenThePageReceives() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let body = ByteBuffer(string: #"{"prompt":"a kite"}"#)
            // a page on another site posting a form, and a same-site write without the token
            let forged = try await app.send(
                .POST, "v1/generate", headers: ["Host": "localhost:8080", "Content-Type": "text/plain"], body: body)
            #expect(forged.status == .forbidden && forged.errorCode == "csrf_failed")
            #expect(try await JobRecord.query(on: app.db).count() == 0)
            // the page gets the token as a cookie (and from the session endpoint)
            let page = try await app.send(.GET, "/", headers: ["Host": "localhost:8080"])
            let cookie = try #require(Application.cookie("atelier_csrf", in: page.headers[.setCookie]))
            let session = try await app.send(.GET, "v1/auth/session", headers: ["Host": "localhost:8080"])
            #expect(session.json["csrf_token"] as? String == cookie)
            let wrong = try await app.send(
                .POST, "v1/generate", headers: ["Host": "localhost:8080", "Content-Type": "application/json", "X-CSRF-Token": "guess"],
                body: body)
            #expect(wrong.errorCode == "csrf_failed")
            let good = try await app.send(
                .POST, "v1/generate", headers: ["Host": "localhost:8080", "Content-Type": "application/json", "X-CSRF-Token": cookie],
                body: body)
            #expect(good.status == .accepted, "\(good.json)")
            let tool = try await app.send(
                .POST, "v1/generate", headers: ["Content-Type": "application/json", "Authorization": "Bearer sk-placeholder"], body: body)
            #expect(tool.status == .accepted, "a local tool with a bearer token needs no CSRF token")
        }
    }
}
