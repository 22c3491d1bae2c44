import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor

/// `/v1/images/generations` in OpenAI's shapes: a job that fails answers with the upstream's meaning and OpenAI's
/// error body; bad input is refused before any job exists.
@Suite struct OpenAICompatibleTests {
    @Test func aFailedJobAnswersInOpenAIsErrorShape() async throws {
        let provider = FakeImageProvider(script: [.failure(.moderationBlocked(message: "Your request was rejected by the safety system."))])
        try await withTestApp(overrides: .init(provider: provider)) { app in
            let worker = app.makeJobWorker()
            let running = Task { await worker.run() }
            defer { running.cancel() }
            let response = try await app.postJSON("v1/images/generations", ["prompt": "something refused", "model": "gpt-image-1.5"])
            #expect(response.status == .badRequest, "\(response.json)")
            #expect(response.json[path: "error.type"] as? String == "invalid_request_error")
            #expect(response.json[path: "error.code"] as? String == "moderation_blocked")
            #expect((response.json[path: "error.message"] as? String)?.contains("safety system") == true)
            let jobID = try #require(response.headers.first(name: "x-atelier-job-id"))
            #expect(try await app.job(jobID)["status"] as? String == "failed", "the call is a job in the history")
        }
    }

    @Test func withLoginOffAnSDKsPlaceholderKeyIsTheLocalUserButAWrongAtelierKeyIsNot() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let placeholder = try await app.send(
                .POST, "v1/estimate", headers: ["Authorization": "Bearer sk-anything", "Content-Type": "application/json"],
                body: ByteBuffer(string: #"{"prompt":"x"}"#))
            #expect(placeholder.status == .ok, "\(placeholder.json)")
            let wrong = try await app.send(
                .GET, "v1/jobs", headers: ["Authorization": "Bearer atl_not_a_real_key"])
            #expect(wrong.status == .unauthorized)
        }
    }

    @Test func badInputIsRefusedWithParamBeforeAnyJob() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let wrongSize = try await app.postJSON("v1/images/generations", ["prompt": "x", "model": "gpt-image-1.5", "size": "4096x4096"])
            #expect(wrongSize.status == .badRequest)
            #expect(wrongSize.json[path: "error.param"] as? String == "size")
            #expect(wrongSize.json[path: "error.type"] as? String == "invalid_request_error")
            let urls = try await app.postJSON("v1/images/generations", ["prompt": "x", "response_format": "url"])
            #expect(urls.json[path: "error.param"] as? String == "response_format")
            #expect(try await JobRecord.query(on: app.db).count() == 0)
        }
    }
}
