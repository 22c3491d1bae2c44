import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor

/// `?wait` answers with the job carried by its terminal event (no second read), identical to reading the job.
@Suite struct WaitAnswerTests {
    @Test func waitAnswersWithTheTerminalEventsJobWhichEqualsTheJobAsRead() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let worker = app.makeJobWorker()
            let running = Task { await worker.run() }
            defer { running.cancel() }
            let prompt = #"a sign reading "job": {"x": [1, "}"]} \ and "image": null"#
            let answered = try await app.postJSON("v1/generate?wait=30", ["prompt": prompt, "model": "gpt-image-1.5"])
            #expect(answered.status == .ok, "\(answered.json)")
            #expect(answered.json["status"] as? String == "succeeded" && answered.json[path: "params.prompt"] as? String == prompt)
            #expect((answered.json["images"] as? [Any])?.count == 1)
            let id = try #require(answered.json["id"] as? String)
            let read = try await app.send(.GET, "v1/jobs/\(id)")
            #expect(String(buffer: answered.body) == String(buffer: read.body), "the same bytes as reading the job")
        }
    }

    @Test func theJobMemberIsFoundOnlyAtTheTopLevelAndStringsDoNotConfuseIt() {
        let payload = #"{"image":{"job":{"no":1}},"job":{"params":{"prompt":"\"job\":{} }]"},"n":[1,{"a":"}"}]},"job_id":"x","seq":4}"#
        let job = EventJobJSON.job(in: payload).map { String(decoding: $0, as: UTF8.self) }
        #expect(job == #"{"params":{"prompt":"\"job\":{} }]"},"n":[1,{"a":"}"}]}"#)
        #expect(EventJobJSON.job(in: #"{"type":"job.succeeded","job_id":"x"}"#) == nil)
    }
}
