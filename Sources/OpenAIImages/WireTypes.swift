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

/// A file part of a multipart edit.
public struct ImagesFile: Sendable, Equatable {
    public var filename: String
    public var contentType: String
    /// In memory, or a file streamed into the request body.
    public var bytes: ImageBytes

    public init(filename: String, contentType: String, bytes: ImageBytes) {
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
    }

    public init(filename: String, contentType: String, data: Data) {
        self.init(filename: filename, contentType: contentType, bytes: .data(data))
    }
}

/// What the API returned for one call, images decoded.
public struct ImagesResult: Sendable {
    public var created: Int?
    public var images: [Data]
    public var background: String?
    public var outputFormat: String?
    public var quality: String?
    public var size: String?
    public var usage: Usage?
    public var requestID: String?
    /// Seconds until the rate limit refills when the answer's `x-ratelimit-remaining-*` reached 0.
    public var rateLimitReset: Double? = nil
}

/// A streamed partial preview.
public struct ImagesPartial: Sendable {
    public var index: Int
    public var data: Data
}

/// `usage` as the API sends it.
struct WireUsage: Decodable {
    struct InputDetails: Decodable {
        var text_tokens: Int?
        var image_tokens: Int?
    }

    struct OutputDetails: Decodable {
        var image_tokens: Int?
        var text_tokens: Int?
    }

    var input_tokens: Int?
    var input_tokens_details: InputDetails?
    var output_tokens: Int?
    var output_tokens_details: OutputDetails?
    var total_tokens: Int?

    var domain: Usage {
        let input = input_tokens ?? 0
        let output = output_tokens ?? 0
        let outputText = output_tokens_details?.text_tokens ?? 0
        return Usage(
            inputTokens: input,
            inputTextTokens: input_tokens_details?.text_tokens ?? 0,
            inputImageTokens: input_tokens_details?.image_tokens ?? 0,
            outputTokens: output,
            outputImageTokens: output_tokens_details?.image_tokens ?? (output - outputText),
            outputTextTokens: outputText,
            totalTokens: total_tokens ?? input + output)
    }
}

/// `ImagesResponse` minus the base64 (blanked before decoding).
struct WireImagesResponse: Decodable {
    struct Item: Decodable {
        var b64_json: String?
        var url: String?
    }

    var created: Int?
    var data: [Item]?
    var background: String?
    var output_format: String?
    var quality: String?
    var size: String?
    var usage: WireUsage?
    var svg_usage: SvgUsage?

    /// `usage` with `svg_usage` attached (the cost of both is the call's cost).
    var domainUsage: Usage? {
        guard var usage = usage?.domain else { return svg_usage.map { Usage(svg: $0) } }
        usage.svg = svg_usage
        return usage
    }
}

/// One SSE event payload minus the base64.
struct WireStreamEvent: Decodable {
    var type: String?
    var partial_image_index: Int?
    var created_at: Int?
    var background: String?
    var output_format: String?
    var quality: String?
    var size: String?
    var usage: WireUsage?
    var error: WireError?
}

/// `{"error": {"message", "type", "param", "code"}}`
struct WireError: Decodable {
    var message: String?
    var type: String?
    var param: String?
    var code: String?

    init(message: String?, type: String? = nil, param: String? = nil, code: String? = nil) {
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    enum CodingKeys: String, CodingKey { case message, type, param, code }

    init(from decoder: any Decoder) throws {
        // Some servers send `code` as a number; tolerate it.
        let container = try decoder.container(keyedBy: CodingKeys.self)
        message = try? container.decodeIfPresent(String.self, forKey: .message)
        type = try? container.decodeIfPresent(String.self, forKey: .type)
        param = try? container.decodeIfPresent(String.self, forKey: .param)
        if let text = try? container.decodeIfPresent(String.self, forKey: .code) {
            code = text
        } else if let number = try? container.decodeIfPresent(Int.self, forKey: .code) {
            code = String(number)
        } else {
            code = nil
        }
    }
}

struct WireErrorEnvelope: Decodable {
    var error: WireError?
}
