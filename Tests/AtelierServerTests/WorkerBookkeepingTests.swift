@testable import AtelierServer
import Foundation
import Testing

/// A gate a test opens once; tasks waiting on it continue.
private struct Gate: Sendable {
    let stream: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream() }

    func wait() async { for await _ in stream {} }
    func open() { continuation.finish() }
}

@Suite struct WorkerBookkeepingTests {
    @Test func anEndingRunDoesNotUnregisterANewerRunOfTheSameJob() async throws {
        let running = RunningJobs()
        let job = UUID()
        let first = Gate(), second = Gate()
        let firstRun = running.start(job) { await first.wait() }
        // The job was released for a retry and claimed again before the first task removed itself.
        let secondRun = running.start(job) { await second.wait() }

        first.open()
        await firstRun.value
        #expect(running.count == 1, "the newer run must still count against the worker's concurrency")
        #expect(running.jobIDs == [job])
        running.task(for: job)?.cancel()
        #expect(secondRun.isCancelled, "cancel must reach the newer run")

        second.open()
        await secondRun.value
        #expect(running.count == 0)
    }

    @Test func afterwardsRunsOnceTheSlotIsFree() async throws {
        let running = RunningJobs()
        let seen = AsyncStream<Int>.makeStream()
        let run = running.start(UUID()) {
        } afterwards: {
            seen.continuation.yield(running.count)
        }
        await run.value
        seen.continuation.finish()
        var counts: [Int] = []
        for await count in seen.stream { counts.append(count) }
        #expect(counts == [0])
    }

    @Test func aSubscriberThatFallsBehindGetsWhatItBufferedThenItsStreamEnds() async throws {
        let hub = JobEventHub(bufferLimit: 4)
        let job = UUID()
        let (_, stream) = await hub.subscribe(.init(owner: "o", jobID: nil))
        let (_, other) = await hub.subscribe(.init(owner: "someone-else", jobID: nil))
        for seq in 1...6 {
            await hub.deliver(JobEvent(jobID: job, owner: "o", seq: seq, type: "job.partial_image", payload: "{}", createdAt: 0))
        }
        var received: [Int] = []
        for await event in stream { received.append(event.seq) }  // ends: the slow subscriber was dropped
        #expect(received == [1, 2, 3, 4], "no gap: the client resumes after 4 with Last-Event-ID")
        #expect(await hub.subscriberCount == 1, "only the overflowing subscriber is removed")
        _ = other
    }

    @Test func anEventReachesItsJobsSubscribersAndTheWideOnesOnly() async throws {
        let hub = JobEventHub()
        let (a, b) = (UUID(), UUID())
        // setup: two followers of job a, one of job b, an owner's stream, everyone's stream, another owner's
        let (firstA, streamA1) = await hub.subscribe(.init(owner: nil, jobID: a))
        let (_, streamA2) = await hub.subscribe(.init(owner: "o", jobID: a))
        let (onlyB, streamB) = await hub.subscribe(.init(owner: nil, jobID: b))
        let (owner, streamOwner) = await hub.subscribe(.init(owner: "o", jobID: nil))
        let (all, streamAll) = await hub.subscribe(.init())
        let (other, streamOther) = await hub.subscribe(.init(owner: "p", jobID: nil))
        #expect(await hub.followedJobs == 2)
        // MUT: one event of job a (owner o), one of job b (owner p)
        await hub.deliver(JobEvent(jobID: a, owner: "o", seq: 1, type: "job.queued", payload: "{}", createdAt: 0))
        await hub.deliver(JobEvent(jobID: b, owner: "p", seq: 1, type: "job.queued", payload: "{}", createdAt: 0))
        for id in [firstA, onlyB, owner, all, other] { await hub.unsubscribe(id) }
        await hub.unsubscribe(firstA)  // twice: nothing happens
        // validate: what each stream got before it ended; the job index is empty once its followers left
        func jobs(_ stream: AsyncStream<JobEvent>) async -> [UUID] { await stream.reduce(into: []) { $0.append($1.jobID) } }
        #expect(await jobs(streamA1) == [a])
        #expect(await jobs(streamB) == [b])
        #expect(await jobs(streamOwner) == [a])
        #expect(await jobs(streamAll) == [a, b])
        #expect(await jobs(streamOther) == [b])
        #expect(await hub.followedJobs == 1, "job a keeps its second follower")
        #expect(await hub.subscriberCount == 1)
        _ = streamA2
    }
}
