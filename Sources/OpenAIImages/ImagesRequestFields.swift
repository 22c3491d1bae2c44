import AtelierCore
import Foundation

/// The scalar fields of a generation or edit call, exactly as sent on the wire. `nil` = not sent.
public struct ImagesRequestFields: Sendable, Equatable {
    public var prompt: String
    public var model: String?
    public var n: Int?
    public var size: String?
    public var quality: String?
    public var background: String?
    public var outputFormat: String?
    public var outputCompression: Int?
    /// Generations only (the SDK's multipart edit has no moderation parameter).
    public var moderation: String?
    /// Edits only.
    public var inputFidelity: String?
    public var complexity: String?
    /// When > 0 the call streams (`stream: true`) and asks for this many partial images.
    public var partialImages: Int?
    public var safetyIdentifier: String?
    /// GIF output: `frame_count`, `frame_duration_ms`.
    public var frameCount: Int?
    public var frameDurationMs: Int?
    /// SVG output: the `svg` object (`svg[model]`, `svg[reasoning][effort]` in a multipart body).
    public var svg: SvgOptions?

    public init(
        prompt: String, model: String? = nil, n: Int? = nil, size: String? = nil, quality: String? = nil,
        background: String? = nil, outputFormat: String? = nil, outputCompression: Int? = nil,
        moderation: String? = nil, inputFidelity: String? = nil, complexity: String? = nil,
        partialImages: Int? = nil, safetyIdentifier: String? = nil, frameCount: Int? = nil, frameDurationMs: Int? = nil,
        svg: SvgOptions? = nil
    ) {
        self.frameCount = frameCount
        self.frameDurationMs = frameDurationMs
        self.svg = svg
        self.prompt = prompt
        self.model = model
        self.n = n
        self.size = size
        self.quality = quality
        self.background = background
        self.outputFormat = outputFormat
        self.outputCompression = outputCompression
        self.moderation = moderation
        self.inputFidelity = inputFidelity
        self.complexity = complexity
        self.partialImages = partialImages
        self.safetyIdentifier = safetyIdentifier
    }

    public var streams: Bool { (partialImages ?? 0) > 0 }

    /// Ordered (name, value) pairs for the fields that are set, as text; `forEdit` drops `moderation`,
    /// generations drop `input_fidelity`.
    func wireFields(forEdit: Bool) -> [(String, WireValue)] {
        var fields: [(String, WireValue)] = [("prompt", .string(prompt))]
        if let model { fields.append(("model", .string(model))) }
        if let n { fields.append(("n", .int(n))) }
        if let size { fields.append(("size", .string(size))) }
        if let quality { fields.append(("quality", .string(quality))) }
        if let background { fields.append(("background", .string(background))) }
        if let outputFormat { fields.append(("output_format", .string(outputFormat))) }
        if let outputCompression { fields.append(("output_compression", .int(outputCompression))) }
        if !forEdit, let moderation { fields.append(("moderation", .string(moderation))) }
        if forEdit, let inputFidelity { fields.append(("input_fidelity", .string(inputFidelity))) }
        if let complexity { fields.append(("complexity", .string(complexity))) }
        if let frameCount { fields.append(("frame_count", .int(frameCount))) }
        if let frameDurationMs { fields.append(("frame_duration_ms", .int(frameDurationMs))) }
        if let model = svg?.model { fields.append(("svg[model]", .string(model))) }
        if let effort = svg?.reasoningEffort { fields.append(("svg[reasoning][effort]", .string(effort))) }
        if streams, let partialImages {
            fields.append(("stream", .bool(true)))
            fields.append(("partial_images", .int(partialImages)))
        }
        if let safetyIdentifier { fields.append(("safety_identifier", .string(safetyIdentifier))) }
        return fields
    }
}

enum WireValue {
    case string(String)
    case int(Int)
    case bool(Bool)

    var text: String {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        }
    }
}
