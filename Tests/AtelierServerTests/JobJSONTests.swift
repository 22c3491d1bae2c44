import AtelierCore
import Crypto
@testable import AtelierServer
import Foundation
import Testing

/// The hand-written job JSON (`JSONBytesWriter`, `JobJSON`) gives the same bytes as `JSONEncoder.api` for the same
/// values: every stored event payload, and so every 202 and `?wait` answer, is unchanged byte for byte.
@Suite struct JobJSONTests {
    static let awkward = [
        "", "plain", "quote \" and backslash \\ and slash / and </script>", "tab\tnew\nline\rreturn\u{8}back\u{C}feed",
        String((0..<32).map { Character(Unicode.Scalar($0)!) }) + "\u{7F}", "café 猫 🐈‍⬛ \u{2028}\u{2029} \u{FEFF}",
    ]

    @Test func everyEventPayloadIsWhatJSONEncoderWrites() throws {
        var count = 0
        for offline in [false, true] {
            for job in Self.jobs() {
                for images in Self.imageSets(job: job) {
                    for (type, image) in [("job.queued", nil), ("job.image", images.first)] {
                        let content = JobEventContent(type: type, job: job, images: images, image: image, at: 1_764_597_029.75)
                        let renderer = JobEventJSON(offline: offline)
                        let written = try renderer.payload(content)
                        #expect(written == (try renderer.encodedPayload(content)))
                        #expect((try? JSONSerialization.jsonObject(with: Data(written.utf8))) != nil)
                        count += 1
                    }
                }
            }
        }
        #expect(count == 168)
    }

    @Test func stringsDatesAndNumbersAreWhatJSONEncoderWrites() throws {
        struct Values: Encodable {
            var text: String
            var date: Date
            var amount: Decimal
            var number: Int
        }
        let dates = [
            0, 0.999, 59.5, 951_782_400, 951_868_799.9, 1_764_597_029.4, 1_764_597_029.999_9, 4_102_444_800, 253_402_300_799,
        ].map(Date.init(timeIntervalSince1970:))
        let amounts = [Decimal(0), Decimal(string: "0.042")!, Decimal(string: "12.3456789")!, Decimal(string: "-1.5")!]
        for text in Self.awkward {
            for date in dates {
                for amount in amounts {
                    for number in [0, -1, Int.max, Int.min] {
                        var writer = JSONBytesWriter()
                        writer.object { w in
                            w.key("amount"); w.decimal(amount)
                            w.key("date"); w.date(date)
                            w.key("number"); w.int(number)
                            w.key("text"); w.string(text)
                        }
                        let expected = String(
                            decoding: try JSONEncoder.api.encode(Values(text: text, date: date, amount: amount, number: number)),
                            as: UTF8.self)
                        #expect(writer.string == expected)
                    }
                }
            }
        }
    }

    /// Jobs in every state a payload shows: queued (plain, rate-limited wait), running, succeeded (usage, cost, a
    /// result, unstored), failed, an edit with options, a batch row, preview formats (GIF, SVG), awkward prompts.
    static func jobs() -> [JobRecord] {
        func plain(_ kind: JobKind, options: EditOptions? = nil) -> JobRecord {
            JobRecord(owner: "u", kind: kind, params: .init(prompt: "p", model: "gpt-image-2"), options: options, maxAttempts: 3, now: 10)
        }
        var jobs: [JobRecord] = []
        for (index, prompt) in awkward.enumerated() {
            var params = ImageParameters(prompt: prompt, model: "gpt-image-2")
            if index % 2 == 1 {
                params.outputCompression = 80
                params.complexity = "high"
                params.inputFidelity = "low"
                params.partialImages = 2
                params.n = 3
            }
            let job = JobRecord(owner: "user-\(index)", kind: .generate, params: params, maxAttempts: 3, now: 1_764_597_000.123)
            job.estimatedCostNano = index == 0 ? nil : 42_000_000 * Int64(index)
            jobs.append(job)
        }
        let waiting = plain(.generate)
        waiting.rateLimitUntil = 1_764_597_100.5
        waiting.errorCode = "upstream_rate_limited"
        waiting.errorMessage = "Slow down \"please\""
        waiting.errorRetryable = true
        jobs.append(waiting)
        let succeeded = plain(.generate)
        succeeded.status = JobStatus.succeeded.rawValue
        succeeded.attempts = 2
        succeeded.startedAt = 11.5
        succeeded.finishedAt = 20.25
        succeeded.costNano = 123_456_789
        succeeded.usage = Usage(inputTokens: 10, inputTextTokens: 10, outputTokens: 4160, outputImageTokens: 4160)
        succeeded.result = JobResultInfo(size: "1024x1024", quality: "high", background: "opaque", outputFormat: "png")
        succeeded.upstreamRequestID = "req_123"
        succeeded.upstreamKey = "team/a"
        succeeded.favorite = true
        jobs.append(succeeded)
        let unstored = plain(.generate)
        unstored.status = JobStatus.succeeded.rawValue
        unstored.result = JobResultInfo(size: nil, quality: "low", background: nil, outputFormat: nil)
        unstored.result?.stored = false
        unstored.errorCode = "storage_failed"
        jobs.append(unstored)
        let failed = plain(.edit)
        failed.status = JobStatus.failed.rawValue
        failed.errorCode = "content_policy"
        failed.options = EditOptions(preserveUnmasked: true, featherRadius: 4, maskEditColor: "#ff00ff", subject: "the cat")
        jobs.append(failed)
        let edit = plain(.edit, options: EditOptions())
        edit.status = JobStatus.running.rawValue
        jobs.append(edit)
        let batch = plain(.generate)
        batch.batchID = UUID()
        batch.batchIndex = 3
        batch.batchRow = 4
        batch.batchVars = ["Subject": "a fox", "subject2": "b", "_x": "\"q\"", "10": "ten", "9": "nine"]
        jobs.append(batch)
        let gif = JobRecord(
            owner: "u", kind: .generate,
            params: .init(prompt: "p", model: "gpt-image-2", outputFormat: "gif", frameCount: 4, frameDurationMs: 250), maxAttempts: 3,
            now: 10)
        jobs.append(gif)
        let svg = JobRecord(
            owner: "u", kind: .generate,
            params: .init(prompt: "p", model: "gpt-image-2", outputFormat: "svg", svg: SvgOptions(model: "gpt-5", reasoningEffort: "low")),
            maxAttempts: 3, now: 10)
        svg.usage = Usage(inputTokens: 1, outputTokens: 2, svg: SvgUsage(model: "gpt-5", inputTokens: 3, outputTokens: 4))
        jobs.append(svg)
        for job in jobs where job.$status.value == nil { job.status = JobStatus.queued.rawValue }
        return jobs
    }

    /// No images; an output with a thumbnail; every role at once, out of order.
    static func imageSets(job: JobRecord) -> [[ImageRecord]] {
        let jobID = job.id!
        func image(_ role: ImageRecord.Role, _ index: Int, thumbnail: Bool) -> ImageRecord {
            ImageRecord(
                jobID: jobID, owner: job.owner, role: role, index: index, blobKey: "k/\(index)", thumbnailKey: thumbnail ? "t" : nil,
                format: "png", width: 1024, height: 1536, bytes: 3_145_728 + index, now: 12)
        }
        let all: [ImageRecord] = [
            image(.output, 1, thumbnail: true), image(.partial, 0, thumbnail: false), image(.input, 0, thumbnail: true),
            image(.output, 0, thumbnail: true), image(.mask, 0, thumbnail: false), image(.markup, 0, thumbnail: false),
            image(.raw, 0, thumbnail: false), image(.changes, 0, thumbnail: false),
        ]
        return [[], [image(.output, 0, thumbnail: true)], all]
    }
}

/// The spend periods' day and month keys (taken from the ISO-8601 writer) are the UTC calendar's, at month, year
/// and leap-day boundaries and at random times up to 2100.
@Suite struct SpendPeriodsTests {
    @Test func theDayAndMonthAreTheUTCCalendars() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        let edges: [Double] = [0, 86_399.999, 86_400, 951_782_399.5, 951_782_400, 1_767_225_599.9, 1_767_225_600, 4_107_542_399]
        for time in edges + (0..<2000).map { _ in Double.random(in: 0..<4_102_444_800, using: &generator) } {
            let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: time))
            let month = String(format: "%04d-%02d", parts.year!, parts.month!)
            let periods = SpendBudget.periods(at: time)
            #expect(periods.month == month && periods.day == month + String(format: "-%02d", parts.day!), "\(time)")
        }
    }
}

/// An idempotency key's request hash is unchanged by the hand-written encoding: the same SHA-256 as from
/// `JSONEncoder` with sorted keys (slashes escaped), for every test job's parameters and options.
@Suite struct RequestHashTests {
    @Test func theHashIsWhatJSONEncoderGave() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let options: [EditOptions?] = [
            nil, EditOptions(), EditOptions(preserveUnmasked: true, featherRadius: 2, maskEditColor: "#a/b\"", subject: "a/b"),
        ]
        for job in JobJSONTests.jobs() {
            for option in options {
                var hasher = SHA256()
                hasher.update(data: Data(job.kind.utf8))
                hasher.update(data: try encoder.encode(job.params))
                hasher.update(data: try encoder.encode(option))
                let kind = try #require(JobKind(rawValue: job.kind))
                #expect(
                    try JobEnqueuer.requestHash(kind: kind, params: job.params, options: option, inputs: []) == hasher.finalize().hexString)
            }
        }
    }
}
