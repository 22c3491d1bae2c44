import AtelierCore
import MCP

/// The tools' JSON schemas, generated from the model registry the server validates with (`GET /v1/models`):
/// the enums, ranges and limits an agent sees are the ones the REST API enforces, and the API's own validation
/// still answers every call (same codes, messages and `field`).
public struct ToolSchemas: Sendable {
    public let models: [ImageModel]
    public let defaultModel: String

    public init(models: [ImageModel], defaultModel: String) {
        self.models = models
        self.defaultModel = defaultModel
    }

    /// The options of `POST /v1/generate` (and `/v1/edit`), over the models serving `endpoint`.
    public func imageOptions(for endpoint: ImageModel.Endpoint) -> [String: Value] {
        let serving = models.filter { $0.supports(endpoint) }
        var properties: [String: Value] = [
            "prompt": .object([
                "type": "string", "minLength": 1, "maxLength": .int(serving.map(\.maxPromptLength).max() ?? 0),
                "description": "What to make or change.",
            ]),
            "model": .object([
                "type": "string", "enum": .array(serving.map { .string($0.id) }), "default": .string(defaultModel),
                "description": "The image model (list_models shows what each one allows).",
            ]),
            "n": integer(1, serving.map(\.maxN).max() ?? 1, "How many images (up to the model's max_n)."),
            "size": sizeSchema(serving),
            "output_compression": integer(0, 100, "0..100, jpeg and webp only."),
            "partial_images": integer(0, serving.map(\.maxPartialImages).max() ?? 0, "Previews streamed while the image is made."),
        ]
        let choices: [(String, KeyPath<ImageModel, [String]>, String)] =
            [
                ("quality", \.qualities, "Rendering quality."), ("background", \.backgrounds, "Background."),
                ("output_format", \.outputFormats, "File format of the result."),
                ("moderation", \.moderations, "Moderation level (low for verified accounts only)."),
                ("complexity", \.complexities, "Scene complexity, for models that take it."),
            ] + (endpoint == .edits ? [("input_fidelity", \.inputFidelities, "How closely to keep the input's details.")] : [])
        for (name, path, description) in choices {
            let values = Self.union(serving.map { $0[keyPath: path] })
            if !values.isEmpty { properties[name] = choice(values, description) }
        }
        return properties
    }

    private func sizeSchema(_ serving: [ImageModel]) -> Value {
        let fixed = Self.union(serving.map { $0.sizes.fixed + ($0.sizes.auto ? ["auto"] : []) })
        let description = "Output size. " + serving.map { "\($0.id): \($0.sizes.allowedDescription)" }.joined(separator: "; ")
        guard serving.contains(where: { $0.sizes.free != nil }) else { return choice(fixed, description) }
        return .object([
            "type": "string", "description": .string(description),
            "anyOf": [.object(["enum": .array(fixed.map { .string($0) })]), .object(["pattern": "^[1-9][0-9]*x[1-9][0-9]*$"])],
            "examples": .array(fixed.prefix(3).map { .string($0) }),
        ])
    }

    /// Values in first-seen order without repeats.
    static func union(_ lists: [[String]]) -> [String] {
        var seen: Set<String> = []
        return lists.flatMap { $0 }.filter { seen.insert($0).inserted }
    }
}

/// Small schema builders.
func choice(_ values: [String], _ description: String) -> Value {
    .object(["type": "string", "enum": .array(values.map { .string($0) }), "description": .string(description)])
}

func integer(_ minimum: Int, _ maximum: Int, _ description: String, default value: Int? = nil) -> Value {
    var schema: [String: Value] = [
        "type": "integer", "minimum": .int(minimum), "maximum": .int(maximum), "description": .string(description),
    ]
    if let value { schema["default"] = .int(value) }
    return .object(schema)
}

func text(_ description: String, format: String? = nil) -> Value {
    var schema: [String: Value] = ["type": "string", "description": .string(description)]
    if let format { schema["format"] = .string(format) }
    return .object(schema)
}

func flag(_ description: String, default value: Bool) -> Value {
    .object(["type": "boolean", "default": .bool(value), "description": .string(description)])
}

/// An object schema that refuses arguments it does not name.
func objectSchema(_ properties: [String: Value], required: [String] = []) -> Value {
    .object([
        "type": "object", "properties": .object(properties), "additionalProperties": false,
        "required": .array(required.map { .string($0) }),
    ])
}
