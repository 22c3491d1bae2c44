import Foundation

/// The models Atelier knows, loaded from `models.json` (bundled) or a file named by configuration.
public struct ModelRegistry: Codable, Sendable, Equatable {
    public var defaultModel: String
    /// Extra image output tokens billed for each streamed partial image.
    public var partialImageOutputTokens: Int
    public var models: [ImageModel]
    public var retired: [RetiredModel]
    /// See `noticeDays`.
    public var deprecationNoticeDays: Int?
    /// Which ids of the upstream's `GET /v1/models` are image models (`ModelRegistry.check`).
    public var upstreamModelPrefixes: [String]?
    /// Who may author SVG output (`svg.model`), with prices for the response's `svg_usage`.
    public var svgAuthoring: SvgAuthoring? = nil

    enum CodingKeys: String, CodingKey {
        case models, retired
        case deprecationNoticeDays = "deprecation_notice_days", upstreamModelPrefixes = "upstream_model_prefixes"
        case svgAuthoring = "svg_authoring"
        case defaultModel = "default_model"
        case partialImageOutputTokens = "partial_image_output_tokens"
    }

    public init(defaultModel: String, partialImageOutputTokens: Int = 100, models: [ImageModel], retired: [RetiredModel]) {
        self.defaultModel = defaultModel
        self.partialImageOutputTokens = partialImageOutputTokens
        self.models = models
        self.retired = retired
    }

    /// The registry shipped with Atelier.
    public static func bundled() throws -> ModelRegistry {
        guard let url = Bundle.module.url(forResource: "models", withExtension: "json") else {
            throw RegistryError.unreadable("the bundled models.json is missing")
        }
        return try load(from: url)
    }

    public static func load(from url: URL) throws -> ModelRegistry {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RegistryError.unreadable("cannot read \(url.path): \(error.localizedDescription)")
        }
        do { return try JSONDecoder().decode(ModelRegistry.self, from: data) } catch {
            throw RegistryError.unreadable("\(url.path) is not a valid model registry: \(error)")
        }
    }

    public func model(_ id: String) -> ImageModel? { models.first { $0.id == id } }

    /// Replaces the default model, refusing one that is unknown, disabled, deprecated or shut down on `time`.
    public func withDefaultModel(_ id: String, at time: Double = Date().timeIntervalSince1970) throws -> ModelRegistry {
        if let shutDown = asOf(time).retirement(of: id) {
            throw RegistryError.invalidDefault("DEFAULT_MODEL: \(shutDown.message)")
        }
        guard let model = model(id), model.enabled else {
            throw RegistryError.invalidDefault("DEFAULT_MODEL '\(id)' is not a model in the registry")
        }
        guard model.status == .current else {
            throw RegistryError.invalidDefault(
                "DEFAULT_MODEL '\(id)' is deprecated (shutdown \(model.shutdownDate ?? "announced")); choose a current model")
        }
        var copy = self
        copy.defaultModel = id
        return copy
    }

    /// The model a request names (or the default), checked for the endpoint.
    public func resolve(_ id: String?, for endpoint: ImageModel.Endpoint) throws(ValidationError) -> ImageModel {
        let id = id ?? defaultModel
        if let shutDown = retirement(of: id) { throw shutDown }
        let usable = models.filter { $0.enabled && $0.supports(endpoint) }.map(\.id)
        guard let model = model(id), model.enabled, model.supports(endpoint) else {
            throw ValidationError(
                code: "unsupported_model", field: "model",
                message: "Model '\(id)' is not available for \(endpoint.rawValue). Allowed: \(usable.joined(separator: ", ")).")
        }
        return model
    }
}

public enum RegistryError: Error, CustomStringConvertible, Sendable {
    case unreadable(String)
    case invalidDefault(String)

    public var description: String {
        switch self {
        case .unreadable(let text), .invalidDefault(let text): text
        }
    }
}
