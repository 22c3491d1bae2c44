import AtelierCore
import Fluent
import Foundation

/// An admin's change to one registry model, applied over the registry file: enabled and/or prices.
final class ModelOverrideRecord: Model, @unchecked Sendable {
    static let schema = "model_overrides"

    @ID(custom: "model_id", generatedBy: .user) var id: String?
    @OptionalField(key: "enabled") var enabled: Bool?
    @OptionalField(key: "prices") var prices: ImageModel.Prices?
    @Field(key: "updated_at") var updatedAt: Double

    init() {}

    init(modelID: String, now: Double) {
        self.id = modelID
        self.updatedAt = now
    }
}
