import AtelierCore
import Foundation
import Testing

/// The Batch API discount is data (`batch_discount` per model in models.json) and the calculator applies it
/// token-exactly.
@Suite struct BatchCostTests {
    let registry = try! ModelRegistry.bundled()

    @Test func everyPricedModelHasADiscountWithASource() throws {
        for model in registry.models where model.prices.imageOutput != nil {
            let discount = try #require(model.batchDiscount, "\(model.id)")
            #expect(discount > 0 && discount < 1)
            #expect(model.sources?["batch_discount"]?.isEmpty == false, "\(model.id)")
        }
    }

    @Test func batchCostIsTheTokenCostAtTheDiscountedPrices() throws {
        let calculator = CostCalculator(registry: registry)
        // gpt-image-2: text in $5, image in $8, image out $30 per 1M; discount 0.5.
        let usage = Usage(
            inputTokens: 10 + 323, inputTextTokens: 10, inputImageTokens: 323, outputTokens: 200, outputImageTokens: 200)
        let full = try #require(calculator.cost(of: usage, model: "gpt-image-2"))
        let batch = try #require(calculator.batchCost(of: usage, model: "gpt-image-2"))
        #expect(full == Decimal(string: "0.008634"))  // 10×5 + 323×8 + 200×30 = 8634 per 1M
        #expect(batch == Decimal(string: "0.004317"))
        #expect(CostCalculator.nanoDollars(batch) == 4_317_000)
        // Odd token counts stay exact (no rounding before the nano-dollar store).
        let odd = Usage(inputTokens: 1, inputTextTokens: 1, outputTokens: 1, outputImageTokens: 1)
        #expect(calculator.batchCost(of: odd, model: "gpt-image-2") == Decimal(string: "0.0000175"))
    }

    @Test func aModelWithoutADiscountHasNoBatchPrice() throws {
        var model = try #require(registry.model("gpt-image-2"))
        model.batchDiscount = nil
        let undiscounted = ModelRegistry(defaultModel: model.id, models: [model], retired: [])
        let usage = Usage(inputTokens: 1, inputTextTokens: 1, outputTokens: 200, outputImageTokens: 200)
        #expect(CostCalculator(registry: undiscounted).batchCost(of: usage, model: model.id) == nil)
        #expect(CostCalculator(registry: undiscounted).cost(of: usage, model: model.id) != nil)
    }
}
