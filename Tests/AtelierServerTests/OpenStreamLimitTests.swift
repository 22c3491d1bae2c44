import AsyncHTTPClient
import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor

/// Open SSE streams and long waits are bounded per user and in all (issue 10, item 3).
@Suite struct OpenStreamLimitTests {
    static func open(_ port: Int, _ path: String, _ account: TestAccount, client: HTTPClient) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/\(path)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "Authorization", value: "Bearer \(account.apiKey)")
        return try await client.execute(request, timeout: .seconds(30))
    }

    @Test func streamsAndWaitsPastTheLimitsAre429WithRetryAfterAndCreateNothing() async throws {
        var access = AtelierConfig.Access.accountsTesting
        access.openStreamsPerUser = 2
        access.openStreamsTotal = 3
        let provider = FakeImageProvider()
        try await withAccountsApp(access: access, provider: provider) { app in
            let a = try await app.makeAccount("a@example.com"), b = try await app.makeAccount("b@example.com")
            let port = try await app.startServer()
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let job = try #require(try await app.postJSON("v1/generate", ["prompt": "x"], headers: a.bearer).json["id"] as? String)
            // a: the all-jobs stream and one job's stream
            let first = try await Self.open(port, "v1/events", a, client: client)
            var jobStream = SSEReader(try await Self.open(port, "v1/jobs/\(job)/events", a, client: client))
            #expect(first.status == .ok && jobStream.status == .ok)
            // MUT: a third for a, a long wait for a, and b past the total
            let third = try await Self.open(port, "v1/events", a, client: client)
            let wait = try await app.postJSON("v1/generate?wait=30", ["prompt": "y"], headers: a.bearer)
            let bFirst = try await Self.open(port, "v1/events", b, client: client)
            let bSecond = try await Self.open(port, "v1/events", b, client: client)
            // validate
            #expect(third.status == .tooManyRequests)
            #expect(third.headers.first(name: "Retry-After") == "5")
            #expect(wait.status == .tooManyRequests && wait.errorCode == "too_many_streams")
            #expect(try await app.count("jobs", where: "owner", is: a.owner) == 1, "a refused wait creates no job")
            #expect(bFirst.status == .ok)
            #expect(bSecond.status == .tooManyRequests, "the total of 3 is reached")
            #expect(app.openStreams.openCount == 3)
            // A stream that ends gives its slot back: the job finishes, its stream ends.
            try await app.drainJobs(app.makeJobWorker())
            while try await jobStream.next() != nil {}
            var reopened = try await Self.open(port, "v1/jobs/\(job)/events", a, client: client)
            for _ in 0..<50 where reopened.status == .tooManyRequests {
                await Task.yield()
                reopened = try await Self.open(port, "v1/jobs/\(job)/events", a, client: client)
            }
            #expect(reopened.status == .ok || reopened.status == .noContent)
            try await client.shutdown()
            await app.server.shutdown()
        }
    }
}
