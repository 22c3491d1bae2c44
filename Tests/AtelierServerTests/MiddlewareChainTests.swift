@testable import AtelierServer
import AtelierTesting
import Testing
import Vapor
import VaporTesting

/// The middleware chain runs a request through no Task it does not need (an `AsyncMiddleware` costs a Task and two
/// thread hops per request), and skipping the studio's file lookup on API paths changes no answer.
@Suite struct MiddlewareChainTests {
    @Test func noGlobalMiddlewareRunsEveryRequestThroughATask() async throws {
        try await withTestApp { app in
            let global = app.middleware.resolve()
            #expect(global.contains { $0 is CallerResolver })
            #expect(global.filter { $0 is any AsyncMiddleware }.isEmpty)
            #expect(global.contains { $0 is StaticFiles } && !global.contains { $0 is FileMiddleware })
        }
        let routeGroups: [any Middleware] = [RequireCaller(), RequireCaller(adminOnly: true), OpenStreamLimiter(), OpenAIErrorShape()]
        #expect(routeGroups.allSatisfy { !($0 is any AsyncMiddleware) })
    }

    @Test func theFileLookupIsSkippedOnlyOnPathsItWouldPassOn() {
        for path in ["/v1/images/generations", "/v1/jobs/abc/events", "/v1/%61", "/mcp"] { #expect(StaticFiles.isAPIPath(path), "\(path)") }
        for path in ["/", "/index.html", "/assets/app.js", "/v1", "/v1/%2e%2e/index.html", "/v1/../x", "/v1/%zz", "/mcpx"] {
            #expect(!StaticFiles.isAPIPath(path), "\(path)")
        }
    }

    @Test func answersAroundTheSkippedLookupStayAsTheyWere() async throws {
        try await withTestApp { app in
            #expect(try await app.send(.GET, "/").status == .ok)
            let missing = try await app.send(.GET, "/v1/no-such-route")
            #expect(missing.status == .notFound && missing.errorCode == "not_found")
            #expect(missing.headers.first(name: "X-RateLimit-Limit") != nil, "the caller resolver still counts it")
            // what Vapor's FileMiddleware refuses on a /v1 path it still refuses
            #expect(try await app.send(.GET, "/v1/%2e%2e/index.html").status == .forbidden)
        }
    }

    /// `CallerResolver` needs a Task only for a key or session lookup: the local user (login off, an OpenAI SDK's
    /// placeholder key) and anonymous callers are known without the database.
    @Test func theCallerIsKnownWithoutALookupOnlyWhenThereIsNoKeyOrSessionToRead() async throws {
        func resolution(_ app: Application, _ headers: HTTPHeaders) -> String {
            let req = Request(
                application: app, method: .POST, url: "/v1/images/generations", headers: headers, on: app.eventLoopGroup.any())
            switch CallerResolver.resolveWithoutLookup(req) {
            case .known(let caller): return caller?.owner ?? "anonymous"
            case .needsLookup: return "lookup"
            }
        }
        try await withTestApp { app in  // login off
            #expect(resolution(app, [:]) == "local")
            #expect(resolution(app, ["Authorization": "Bearer sk-placeholder"]) == "local")
            #expect(resolution(app, ["Authorization": "Bearer atl_0123456789"]) == "lookup")
            #expect(resolution(app, ["Cookie": "atelier_session=abc"]) == "lookup")
            #expect(resolution(app, ["Cookie": "atelier_session="]) == "local")
        }
        try await withAccountsApp { app in  // login required
            #expect(resolution(app, [:]) == "anonymous")
            #expect(resolution(app, ["Authorization": "Bearer sk-placeholder"]) == "lookup")
            #expect(resolution(app, ["Cookie": "atelier_session=abc"]) == "lookup")
        }
    }
}
