import AtelierCore
import Foundation

/// One model of `GET /v1/models`: the registry entry plus `default_quality`, the quality a request that omits
/// `quality` runs at (the validator's own rule, `ImageModel.defaultQuality`).
struct ModelEntry: Codable, Sendable {
    var model: ImageModel

    enum CodingKeys: String, CodingKey { case defaultQuality = "default_quality" }

    init(_ model: ImageModel) { self.model = model }

    init(from decoder: any Decoder) throws { model = try ImageModel(from: decoder) }

    func encode(to encoder: any Encoder) throws {
        try model.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model.defaultQuality, forKey: .defaultQuality)
    }
}
