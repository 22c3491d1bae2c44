import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import NIOPosix
import Testing
import Vapor

/// The compatible routes' callers wait for their job's end as a promise (`JobEndings`), with no subscription, task
/// or read of the job; they are told only what the hub can vouch for, and take the reading path otherwise.
@Suite struct JobEndingsTests {
    static func event(_ job: UUID, _ type: String, seq: Int = 3) -> JobEvent {
        JobEvent(jobID: job, owner: "o", seq: seq, type: type, payload: "{}", createdAt: 0)
    }

    let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test func aFollowerGetsItsJobsTerminalEventAndNothingElse() async throws {
        let hub = JobEventHub()
        let (job, other) = (UUID(), UUID())
        let mark = hub.endings.mark()
        let end = try #require(hub.endings.follow(job, since: mark, on: loop, timeout: .seconds(60)))
        await hub.deliver(Self.event(job, "job.running", seq: 2))
        await hub.deliver(Self.event(other, "job.succeeded"))
        #expect(hub.endings.waiting == 1, "neither another job's end nor a running event ends the wait")
        await hub.deliver(Self.event(job, "job.failed"))
        #expect(try await end.get() == Self.event(job, "job.failed"))
        #expect(hub.endings.waiting == 0)
    }

    @Test func aJobThatEndedBeforeItsCallerFollowsIsLeftToTheReadingPath() async throws {
        let hub = JobEventHub()
        let job = UUID()
        let mark = hub.endings.mark()
        await hub.deliver(Self.event(job, "job.canceled"))
        #expect(hub.endings.follow(job, since: mark, on: loop, timeout: .seconds(60)) == nil)
        #expect(hub.endings.waiting == 0)
    }

    /// Past `remembered` endings since the mark, a job missing from the recent ones may have ended and been
    /// forgotten: the hub does not vouch for it. A fresh mark is trusted again.
    @Test func aMarkOlderThanTheRememberedEndingsIsNotTrusted() async throws {
        let hub = JobEventHub()
        let first = UUID()
        let mark = hub.endings.mark()
        await hub.deliver(Self.event(first, "job.succeeded"))
        for _ in 0..<JobEndings.remembered { await hub.deliver(Self.event(UUID(), "job.succeeded")) }
        #expect(hub.endings.follow(UUID(), since: mark, on: loop, timeout: .seconds(60)) == nil)
        #expect(hub.endings.follow(first, since: mark, on: loop, timeout: .seconds(60)) == nil, "forgotten, but not trusted")
        let end = try #require(hub.endings.follow(UUID(), since: hub.endings.mark(), on: loop, timeout: .milliseconds(1)))
        #expect(try await end.get() == nil)
    }

    @Test func aWaitEndsEmptyAfterItsTimeoutAndWhenTheHubFinishes() async throws {
        let hub = JobEventHub()
        let late = try #require(hub.endings.follow(UUID(), since: hub.endings.mark(), on: loop, timeout: .milliseconds(5)))
        let held = try #require(hub.endings.follow(UUID(), since: hub.endings.mark(), on: loop, timeout: .seconds(60)))
        #expect(try await late.get() == nil)
        #expect(hub.endings.waiting == 1)
        await hub.finishAll()
        #expect(try await held.get() == nil)
        #expect(hub.endings.follow(UUID(), since: hub.endings.mark(), on: loop, timeout: .seconds(60)) == nil)
    }

    /// The route itself: the answer was forwarded while the output's write is held, and the caller waits for the
    /// job's end as a follower, not as a hub subscriber (which would read the job); once the job ends it is gone.
    @Test func theCompatibleRouteFollowsItsJobWithoutSubscribing() async throws {
        let writes = OutputWrites(failing: false)
        try await CompatFastPathTests.generate(writes: writes) { app, _, response in
            let jobID = try #require(response.headers.first(name: "x-atelier-job-id"))
            #expect(app.atelier.hub.endings.waiting == 1)
            #expect(await app.atelier.hub.subscriberCount == 0)
            await writes.open()
            let job = try await app.send(.GET, "v1/jobs/\(jobID)?wait=30").json
            #expect(job["status"] as? String == "succeeded", "\(job)")
            #expect(app.atelier.hub.endings.waiting == 0)
        }
    }

    /// A replayed request's job was not created after the caller's mark (it may have ended long ago): it takes
    /// the reading path and answers at once.
    @Test func aReplayedRequestAnswersFromTheStoredJob() async throws {
        try await CompatHeadFirstTests.withWorkingApp { app, _ in
            let body: [String: Any] = ["prompt": "a lighthouse", "model": "gpt-image-1.5", "size": "1024x1024", "quality": "low"]
            let headers: HTTPHeaders = ["Idempotency-Key": "replay-after-the-end"]
            let first = try await app.postJSON("v1/images/generations", body, headers: headers)
            #expect(first.status == .ok, "\(first.json)")
            let jobID = try #require(first.headers.first(name: "x-atelier-job-id"))
            #expect(try await app.send(.GET, "v1/jobs/\(jobID)?wait=30").json["status"] as? String == "succeeded")
            let again = try await app.postJSON("v1/images/generations", body, headers: headers)
            #expect(again.status == .ok, "\(again.json)")
            #expect(again.headers.first(name: "x-atelier-job-id") == jobID)
            #expect((again.json[path: "data.0.b64_json"] as? String)?.isEmpty == false)
            #expect(app.atelier.hub.endings.waiting == 0)
        }
    }
}
