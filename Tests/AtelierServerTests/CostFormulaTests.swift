import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Testing
import Vapor
import VaporTesting

/// End to end: the cost of generate and edit jobs is the token formula for every priced model — text input,
/// image input (edits), image output and text output where billed — and the estimate counts input image tokens.
@Suite struct CostFormulaTests {
    static let prompt = "a quiet harbour at dawn"

    static func pricedModels() throws -> [ImageModel] {
        try ModelRegistry.bundled().models.filter { $0.enabled && $0.prices.imageOutput != nil }
    }

    /// tokens × USD per 1M, summed, written out independently of CostCalculator.
    static func formula(_ usage: Usage, _ prices: ImageModel.Prices) -> Decimal {
        let lines: [(Int, Decimal?)] = [
            (usage.inputTextTokens, prices.textInput), (usage.inputImageTokens, prices.imageInput),
            (usage.outputImageTokens, prices.imageOutput), (usage.outputTextTokens, prices.textOutput),
        ]
        return lines.reduce(Decimal(0)) { $0 + Decimal($1.0) * ($1.1 ?? 0) / 1_000_000 }
    }

    static func usage(_ model: ImageModel, imageTokens: Int) -> Usage {
        let textOut = model.prices.textOutput == nil ? 0 : 37
        return Usage(
            inputTokens: 11 + imageTokens, inputTextTokens: 11, inputImageTokens: imageTokens,
            outputTokens: 1_056 + textOut, outputImageTokens: 1_056, outputTextTokens: textOut)
    }

    static func close(_ value: Any?, _ expected: Decimal) -> Bool {
        guard let value = value as? Double else { return false }
        return abs(value - NSDecimalNumber(decimal: expected).doubleValue) < 1e-12
    }

    @Test func generateJobsCostTheFormulaForEveryPricedModel() async throws {
        let models = try Self.pricedModels().filter { $0.supports(.generations) }
        #expect(models.count >= 4)
        let provider = FakeImageProvider(script: models.map { .images(usage: Self.usage($0, imageTokens: 0)) })
        try await withAccountsApp(provider: provider) { app in
            let a = try await app.makeAccount("a@example.com")
            for model in models {
                let job = try await app.finishedJob(
                    as: a, ["prompt": Self.prompt, "model": model.id, "quality": "low", "size": "1024x1024"])
                #expect(job["status"] as? String == "succeeded", "\(model.id)")
                let expected = Self.formula(Self.usage(model, imageTokens: 0), model.prices)
                #expect(Self.close(job["cost_usd"], expected), "\(model.id): \(job["cost_usd"] ?? "nil") ≠ \(expected)")
                let text = (Self.prompt.count + 3) / 4
                let perImage = try #require(model.outputTokens["low"]?["1024x1024"])
                let estimate = Self.formula(Usage(inputTextTokens: text, outputImageTokens: perImage), model.prices)
                #expect(Self.close(job["estimated_cost_usd"], estimate), "\(model.id) estimate")
            }
        }
    }

    @Test func editJobsCostTheFormulaIncludingInputImageTokens() async throws {
        let models = try Self.pricedModels().filter { $0.supports(.edits) }
        let inputTokens = 194  // 65 + 129 × one 512-px tile, what the upstream bills for a small image
        let provider = FakeImageProvider(script: models.map { .images(usage: Self.usage($0, imageTokens: inputTokens)) })
        let png = try ImageProcessing.synthesize(width: 256, height: 256, format: .png, seed: 3)
        try await withAccountsApp(provider: provider) { app in
            let a = try await app.makeAccount("a@example.com")
            for model in models {
                var form = MultipartBody()
                form.field("prompt", Self.prompt)
                form.field("model", model.id)
                form.field("quality", "low")
                form.field("size", "1024x1024")
                form.file("image", filename: "in.png", png)
                let created = try await app.send(.POST, "v1/edit", headers: a.bearer.merging(form.headers), body: form.buffer)
                #expect(created.status == .accepted, "\(model.id): \(created.json)")
                let id = try #require(created.json["id"] as? String)
                try await app.drainJobs(app.makeJobWorker())
                let job = try await app.send(.GET, "v1/jobs/\(id)", headers: a.bearer).json
                let usage = Self.usage(model, imageTokens: inputTokens)
                let expected = Self.formula(usage, model.prices)
                #expect(Self.close(job["cost_usd"], expected), "\(model.id): \(job["cost_usd"] ?? "nil") ≠ \(expected)")
                #expect(
                    expected
                        > Self.formula(
                            Usage(inputTextTokens: 11, outputImageTokens: 1_056, outputTextTokens: usage.outputTextTokens), model.prices))
                let perImage = try #require(model.outputTokens["low"]?["1024x1024"])
                let estimate = Self.formula(
                    Usage(inputTextTokens: (Self.prompt.count + 3) / 4, inputImageTokens: inputTokens, outputImageTokens: perImage),
                    model.prices)
                #expect(Self.close(job["estimated_cost_usd"], estimate), "\(model.id) estimate counts input image tokens")
            }
            let requests = await provider.requests
            #expect(requests.allSatisfy { $0.safetyIdentifier == SafetyIdentifier.forOwner(a.owner) })
            #expect(requests.first?.safetyIdentifier?.count == 64)
            #expect(requests.first?.safetyIdentifier?.contains(a.owner) == false)
        }
    }
}
