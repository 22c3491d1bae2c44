import Foundation

/// One entry of the model registry: what a model accepts and what it costs. Loaded from data, never hard-coded.
public struct ImageModel: Codable, Sendable, Equatable, Identifiable {
    public enum Status: String, Codable, Sendable { case current, deprecated }
    public enum Endpoint: String, Codable, Sendable { case generations, edits }

    public struct Prices: Codable, Sendable, Equatable {
        /// USD per 1M tokens; nil where unknown.
        public var textInput: Decimal?
        public var imageInput: Decimal?
        public var imageOutput: Decimal?
        public var textOutput: Decimal?

        public init(textInput: Decimal? = nil, imageInput: Decimal? = nil, imageOutput: Decimal? = nil, textOutput: Decimal? = nil) {
            self.textInput = textInput
            self.imageInput = imageInput
            self.imageOutput = imageOutput
            self.textOutput = textOutput
        }

        enum CodingKeys: String, CodingKey {
            case textInput = "text_input", imageInput = "image_input"
            case imageOutput = "image_output", textOutput = "text_output"
        }
    }

    public var id: String
    public var displayName: String
    public var status: Status
    public var shutdownDate: String?
    /// The model to use instead once `shutdownDate` has passed (refusals name it; re-runs switch to it).
    public var replacement: String?
    public var snapshotOf: String?
    public var enabled: Bool
    public var endpoints: [Endpoint]
    public var sizes: SizeRule
    public var qualities: [String]
    public var outputFormats: [String]
    public var backgrounds: [String]
    /// Values OpenAI offers only as a preview for this model: recorded, never accepted (see models.json).
    public var previewBackgrounds: [String]?
    public var moderations: [String]
    /// Empty: the parameter must be omitted (the model does not allow changing it).
    public var inputFidelities: [String]
    public var complexities: [String]
    public var maxN: Int
    public var maxInputImages: Int
    public var maxPartialImages: Int
    public var maxPromptLength: Int
    public var supportsMarkup: Bool
    /// Preview output formats ("gif", "svg") the model may produce when the server enables them; nil = none.
    public var previewFormats: [String]?
    public var prices: Prices
    /// The fraction taken off every token price when the request runs through OpenAI's Batch API (0.5 = half
    /// price); nil where unknown (batch mode then has no price for this model).
    public var batchDiscount: Decimal?
    /// Image output tokens per image by quality, then by size ("1024x1024").
    public var outputTokens: [String: [String: Int]]
    /// Where each fact comes from (SDK file and field, or page), by field name.
    public var sources: [String: String]?

    enum CodingKeys: String, CodingKey {
        case id, status, enabled, endpoints, sizes, qualities, backgrounds, moderations, complexities, replacement, sources
        case previewBackgrounds = "preview_backgrounds"
        case displayName = "display_name", shutdownDate = "shutdown_date", snapshotOf = "snapshot_of"
        case outputFormats = "output_formats", inputFidelities = "input_fidelities"
        case maxN = "max_n", maxInputImages = "max_input_images", maxPartialImages = "max_partial_images"
        case maxPromptLength = "max_prompt_length", supportsMarkup = "supports_markup"
        case previewFormats = "preview_formats"
        case prices = "prices_per_million", outputTokens = "output_tokens"
        case batchDiscount = "batch_discount"
    }

    public func supports(_ endpoint: Endpoint) -> Bool { endpoints.contains(endpoint) }

    /// The output formats a request may name when the server has enabled `enabledPreviews`.
    public func outputFormats(enabledPreviews: Set<String>) -> [String] {
        outputFormats + (previewFormats ?? []).filter(enabledPreviews.contains)
    }
}

/// A model id that upstream no longer serves; requests naming it are refused with the replacement.
public struct RetiredModel: Codable, Sendable, Equatable {
    public var id: String
    public var retiredOn: String
    public var replacement: String

    public init(id: String, retiredOn: String, replacement: String) {
        self.id = id
        self.retiredOn = retiredOn
        self.replacement = replacement
    }

    enum CodingKeys: String, CodingKey {
        case id, replacement
        case retiredOn = "retired_on"
    }
}
