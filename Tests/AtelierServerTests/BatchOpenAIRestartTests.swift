import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import OpenAIStandIn
import Testing
import Vapor

/// An `openai_batch` batch survives its instance: a second app on the same database (and blob store) takes the
/// batch over once the first one's lease ends, and finishes it without losing or repeating a line.
@Suite struct BatchOpenAIRestartTests {
    @Test func aSecondInstanceFinishesABatchTheFirstLeftMidwayWithoutLossOrRepeat() async throws {
        try await StandInServer.run { standIn in
            let clock = ManualClock(1_800_000_000)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-restart-\(UUID().uuidString).sqlite")
            defer { try? FileManager.default.removeItem(at: file) }
            let database: AtelierConfig.Database = TestDatabase.isPostgres ? TestDatabase.current : .sqliteFile(file.path)
            let configA = try AtelierConfig.testing(openAI: try UpstreamEndToEndTests.config(standIn).openAI, database: database)
            var configB = try AtelierConfig.testing(openAI: configA.openAI, database: database)
            configB.dataDirectory = configA.dataDirectory  // the same blob store
            try await withTestApp(configA, overrides: .init(clock: clock.clock)) { a in
                var first = try #require(OpenAIBatchRunner(app: a))
                first.afterLine = { if $0 == 5 { throw CancellationError() } }  // the process dies after 5 lines
                let h = OpenAIBatchHarness(app: a, standIn: standIn, clock: clock, runner: first)
                let id = try await h.create(
                    ["prompt": "a {{subject}}", "csv": batchCSV(rows: 12), "model": "gpt-image-2", "quality": "low"])
                var died = false
                for _ in 0..<10 where !died {
                    if let due = try await h.record(id).pollAfter, due > clock.now { clock.advance(by: due - clock.now) }
                    do { try await first.runNext() } catch is CancellationError { died = true }
                }
                #expect(died)
                let succeeded = try await JobRecord.query(on: a.db).filter(\.$status == "succeeded").count()
                #expect(succeeded == 5)

                try await withTestApp(configB, overrides: .init(clock: clock.clock)) { b in
                    let second = try #require(OpenAIBatchRunner(app: b))
                    #expect(try await second.runNext() == false, "the first instance's lease still holds")
                    let hb = OpenAIBatchHarness(app: b, standIn: standIn, clock: clock, runner: second)
                    try await hb.runBatch(id)
                    let shown = try await hb.batch(id)
                    #expect(shown["status"] as? String == "completed")
                    #expect(shown[path: "counts.succeeded"] as? Int == 12)
                    let jobs = try await b.batchJobs(id)
                    #expect(jobs.allSatisfy { ($0["images"] as? [Any])?.count == 1 }, "no line applied twice")
                    #expect(try await ImageRecord.query(on: b.db).count() == 12)
                    #expect(try await hb.imageCalls().count == 12, "each line ran upstream once")
                    #expect(try await standIn.requests().filter { $0["path"] as? String == "/v1/files" }.count <= 1)
                    _ = try await hb.expectDiscountedCosts(id)
                    #expect(try await hb.ledgerStates() == ["settled": 12])
                    // Every image is readable from the instance that finished the batch.
                    for job in jobs {
                        let url = try #require((job["images"] as? [[String: Any]])?.first?["url"] as? String)
                        #expect(try await b.send(.GET, String(url.dropFirst())).status == .ok)
                    }
                }
            }
        }
    }
}

extension BatchOpenAIRestartTests {
    /// The instance died after OpenAI created the batch but before its id was stored: the next step adopts that
    /// OpenAI batch (found by its metadata) instead of creating and paying for a second one.
    @Test func anOpenAIBatchCreatedJustBeforeACrashIsAdoptedNotCreatedTwice() async throws {
        try await OpenAIBatchHarness.run { h in
            let id = try await h.create(["prompt": "a {{subject}}", "csv": batchCSV(rows: 3), "model": "gpt-image-2", "quality": "low"])
            let batchID = try #require(UUID(uuidString: id))
            // What the dead instance did: jobs started, input uploaded and stored, OpenAI batch created, id not stored.
            let holder = OpenAIBatchRunner.holder(batchID)
            try await h.app.lifecycle().startHeldBatchJobs(batchID: batchID, holder: holder)
            let directory = URL(fileURLWithPath: h.app.atelier.config.dataDirectory).appendingPathComponent("batches")
            let input = try await OpenAIBatchInput(database: h.app.db, directory: directory).write(batchID: batchID, holder: holder)
            let file = try await h.runner.client.uploadBatchInput(filename: "in.jsonl", bytes: .file(input.file, byteCount: input.bytes))
            try await h.runner.state.recordInputFile(batchID, fileID: file.id, now: h.clock.now)
            let lost = try await h.runner.client.createBatch(
                inputFileID: file.id, endpoint: OpenAIBatchInput.endpoint, metadata: ["atelier_batch_id": id])

            try await h.runBatch(id)
            #expect(try await h.record(id).upstreamBatchID == lost.id)
            #expect(try await h.runner.client.listBatches().data.count == 1, "no second OpenAI batch")
            #expect(try await h.batch(id)[path: "counts.succeeded"] as? Int == 3)
            #expect(try await h.imageCalls().count == 3)
        }
    }
}
