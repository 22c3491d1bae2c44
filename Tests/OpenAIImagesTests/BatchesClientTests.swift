import AsyncHTTPClient
import AtelierCore
import Foundation
import NIOCore
import OpenAIStandIn
import Testing

@testable import OpenAIImages

@Suite("OpenAI Files and Batch APIs: client against the stand-in")
struct BatchesClientTests {
    static func line(_ id: String, prompt: String = "a lighthouse", size: String = "1024x1024", url: String = "/v1/images/generations")
        -> String
    {
        "{\"custom_id\":\"\(id)\",\"method\":\"POST\",\"url\":\"\(url)\",\"body\":{\"model\":\"gpt-image-2\",\"prompt\":\"\(prompt)\",\"size\":\"\(size)\",\"quality\":\"low\"}}"
    }

    static func start(_ h: Harness, lines: [String]) async throws -> (OpenAIBatchesClient, OpenAIBatch) {
        let client = OpenAIBatchesClient(httpClient: h.http, configuration: h.configuration(), logger: h.logger)
        let file = try await client.uploadBatchInput(filename: "input.jsonl", bytes: .data(Data(lines.joined(separator: "\n").utf8)))
        #expect(file.purpose == "batch")
        #expect(file.id.hasPrefix("file-"))
        let batch = try await client.createBatch(
            inputFileID: file.id, endpoint: "/v1/images/generations", metadata: ["atelier_batch": "b1"])
        #expect(batch.status == .validating)
        #expect(batch.metadata == ["atelier_batch": "b1"])
        return (client, batch)
    }

    static func lines(_ client: OpenAIBatchesClient, _ fileID: String?) async throws -> [OpenAIBatchOutputLine] {
        guard let fileID else { return [] }
        var lines: [OpenAIBatchOutputLine] = []
        try await client.forEachLine(ofFile: fileID) { data in lines.append(try #require(OpenAIBatchOutputLine(data))) }
        return lines
    }

    @Test func batchMovesThroughEveryStatusAndOutputLinesCarryImagesAndUsage() async throws {
        try await Harness.run { h in
            let (client, created) = try await Self.start(h, lines: (1...3).map { Self.line("job-\($0)", prompt: "prompt \($0)") })
            var statuses: [OpenAIBatch.Status] = []
            var batch = created
            while !batch.status.isFinal {
                batch = try await client.batch(created.id)
                statuses.append(batch.status)
            }
            #expect(statuses == [.inProgress, .finalizing, .completed])
            #expect(batch.requestCounts == .init(total: 3, completed: 3, failed: 0))
            #expect(batch.errorFileID == nil)
            let output = try await Self.lines(client, batch.outputFileID)
            #expect(output.map(\.customID) == ["job-1", "job-2", "job-3"])
            for line in output {
                #expect(line.statusCode == 200)
                #expect(line.requestID?.hasPrefix("req_") == true)
                let bodyData = try #require(line.body)
                let body = try #require(JSONSerialization.jsonObject(with: bodyData) as? [String: Any])
                let image = try #require(
                    ((body["data"] as? [[String: Any]])?.first?["b64_json"] as? String).flatMap { Data(base64Encoded: $0) })
                #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47]))
                let usage = try #require(body["usage"] as? [String: Any])
                let expected = try ModelRegistry.bundled().model("gpt-image-2")?.outputTokens["low"]?["1024x1024"]
                #expect(usage["output_tokens"] as? Int == expected)
            }
            #expect(try await h.recorded().map { $0["path"] as? String } == Array(repeating: "/v1/images/generations", count: 3))
            #expect(!h.logs.text.contains(Harness.apiKey))
        }
    }

    @Test func failedLinesGoToTheErrorFileWithTheUpstreamError() async throws {
        try await Harness.run { h in
            try await h.inject(#"{"faults":[{"kind":"moderation_blocked"}],"match":"generations"}"#)
            let (client, created) = try await Self.start(
                h, lines: [Self.line("blocked"), Self.line("bad-size", size: "999x999"), Self.line("fine")])
            var batch = created
            while !batch.status.isFinal { batch = try await client.batch(created.id) }
            #expect(batch.status == .completed)
            #expect(batch.requestCounts == .init(total: 3, completed: 1, failed: 2))
            #expect(try await Self.lines(client, batch.outputFileID).map(\.customID) == ["fine"])
            let errors = try await Self.lines(client, batch.errorFileID)
            #expect(errors.map(\.customID) == ["blocked", "bad-size"])
            #expect(errors.map(\.statusCode) == [400, 400])
            let codes = try errors.map { line in
                let bodyData = try #require(line.body)
                let body = try #require(JSONSerialization.jsonObject(with: bodyData) as? [String: [String: Any]])
                return "\(body["error"]?["code"] ?? "-")/\(body["error"]?["param"] ?? "-")"
            }
            #expect(codes[0].hasPrefix("moderation_blocked/"))
            #expect(codes[1] == "invalid_value/size")
        }
    }

    @Test func cancelKeepsFinishedLinesAndReportsTheRestAsCancelled() async throws {
        var options = StandInOptions()
        options.batchLinesPerPoll = 1
        try await Harness.run(options: options) { h in
            let (client, created) = try await Self.start(h, lines: (1...3).map { Self.line("job-\($0)") })
            #expect(try await client.batch(created.id).status == .inProgress)
            #expect(try await client.batch(created.id).requestCounts?.completed == 1)
            #expect(try await client.cancelBatch(created.id).status == .cancelling)
            let batch = try await client.batch(created.id)
            #expect(batch.status == .cancelled)
            #expect(try await Self.lines(client, batch.outputFileID).map(\.customID) == ["job-1"])
            let errors = try await Self.lines(client, batch.errorFileID)
            #expect(errors.map(\.customID) == ["job-2", "job-3"])
            #expect(errors.allSatisfy { $0.errorCode == "batch_cancelled" && $0.statusCode == nil })
            #expect(try await h.recorded().count == 1)
        }
    }

    @Test func expiryPutsTheUnfinishedLinesInTheErrorFile() async throws {
        var options = StandInOptions()
        options.batchLinesPerPoll = 2
        try await Harness.run(options: options) { h in
            let (client, created) = try await Self.start(h, lines: (1...5).map { Self.line("job-\($0)") })
            _ = try await client.batch(created.id)
            #expect(try await client.batch(created.id).requestCounts?.completed == 2)
            let (status, _) = try await h.post(
                "/_standin/batches/\(created.id)/expire", contentType: "application/json", body: ByteBuffer())
            #expect(status == 200)
            let batch = try await client.batch(created.id)
            #expect(batch.status == .expired)
            #expect(try await Self.lines(client, batch.outputFileID).map(\.customID) == ["job-1", "job-2"])
            let errors = try await Self.lines(client, batch.errorFileID)
            #expect(errors.map(\.customID) == ["job-3", "job-4", "job-5"])
            #expect(errors.allSatisfy { $0.errorCode == "batch_expired" })
        }
    }

    @Test func anInvalidInputFileFailsValidationNamingTheLine() async throws {
        try await Harness.run { h in
            let cases: [(String, String)] = [
                ("duplicate_custom_id", Self.line("a") + "\n" + Self.line("a")),
                ("invalid_url", Self.line("a") + "\n" + Self.line("b", url: "/v1/images/edits")),
                ("invalid_json_line", Self.line("a") + "\n{not json"),
                ("mismatched_model", Self.line("a") + "\n" + Self.line("b").replacingOccurrences(of: "gpt-image-2", with: "gpt-image-1")),
            ]
            for (code, text) in cases {
                let (client, created) = try await Self.start(h, lines: [text])
                let batch = try await client.batch(created.id)
                #expect(batch.status == .failed, "\(code)")
                #expect(batch.validationErrors.map(\.code) == [code])
                #expect(batch.validationErrors.map(\.line) == [2])
            }
            #expect(try await h.recorded().isEmpty)
        }
    }

    @Test func uploadAndCreateRefuseWhatOpenAIRefuses() async throws {
        try await Harness.run { h in
            let client = OpenAIBatchesClient(httpClient: h.http, configuration: h.configuration(), logger: h.logger)
            await #expect(
                throws: ProviderError.invalidRequest(
                    message: "Invalid file format for Batch API. Must be .jsonl", param: "file", code: "invalid_value")
            ) {
                _ = try await client.uploadBatchInput(filename: "input.csv", bytes: .data(Data("a,b\n".utf8)))
            }
            let file = try await client.uploadBatchInput(filename: "in.jsonl", bytes: .data(Data(Self.line("a").utf8)))
            do {
                _ = try await client.createBatch(inputFileID: file.id, endpoint: "/v1/chat/completions")
                Issue.record("an unsupported endpoint was accepted")
            } catch { #expect((error as? ProviderError)?.code == "invalid_value") }
            do {
                _ = try await client.batch("batch_missing")
                Issue.record("a missing batch was found")
            } catch { #expect((error as? ProviderError)?.code == "not_found") }
            try await client.deleteFile(file.id)
            do {
                _ = try await client.createBatch(inputFileID: file.id, endpoint: "/v1/images/generations")
                Issue.record("a deleted file was accepted")
            } catch { #expect((error as? ProviderError)?.code == "not_found") }
            let wrongKey = OpenAIBatchesClient(httpClient: h.http, configuration: h.configuration(key: ""), logger: h.logger)
            await #expect(throws: ProviderError.self) { _ = try await wrongKey.batch("batch_x") }
        }
    }

    @Test func lineSplitterKeepsLinesWholeAcrossChunksAndBoundsThem() throws {
        var splitter = LineSplitter(maxLineBytes: 8)
        #expect(try splitter.feed(ByteBuffer(string: "ab")).isEmpty)
        #expect(try splitter.feed(ByteBuffer(string: "c\r\n\nde\nf")) == [Data("abc".utf8), Data("de".utf8)])
        #expect(splitter.finish() == Data("f".utf8))
        #expect(throws: LineSplitter.LineTooLong.self) { _ = try splitter.feed(ByteBuffer(string: "123456789")) }
    }
}
