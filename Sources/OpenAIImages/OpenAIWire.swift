import AtelierCore
import Foundation

/// OpenAI's Images API on the wire, as the official SDKs read and write it: the one model both the client
/// (decoding what the upstream answers) and Atelier's compatible routes (answering SDK callers) use.
/// Decoding is lenient (every field optional: the client decodes bodies whose `b64_json` was taken out);
/// encoding leaves out what is nil.
public enum OpenAIWire {
    /// `ImagesResponse`.
    public struct ImagesResponse: Codable, Sendable {
        public struct Item: Codable, Sendable {
            public var b64_json: String?
            public var url: String?

            public init(b64_json: String?, url: String? = nil) {
                self.b64_json = b64_json
                self.url = url
            }
        }

        public var created: Int?
        public var data: [Item]?
        public var background: String?
        public var output_format: String?
        public var quality: String?
        public var size: String?
        public var usage: Usage?
        /// SVG output only: the author's tokens.
        public var svg_usage: SvgUsage?

        public init(
            created: Int?, data: [Item]?, background: String? = nil, output_format: String? = nil,
            quality: String? = nil, size: String? = nil, usage: Usage? = nil, svg_usage: SvgUsage? = nil
        ) {
            self.created = created
            self.data = data
            self.background = background
            self.output_format = output_format
            self.quality = quality
            self.size = size
            self.usage = usage
            self.svg_usage = svg_usage
        }

        /// `usage` with `svg_usage` attached (the cost of both is the call's cost).
        public var domainUsage: AtelierCore.Usage? {
            guard var domain = usage?.domain else { return svg_usage.map { AtelierCore.Usage(svg: $0) } }
            domain.svg = svg_usage
            return domain
        }
    }

    /// `usage` with `input_tokens_details` / `output_tokens_details`.
    public struct Usage: Codable, Sendable {
        public struct Details: Codable, Sendable {
            public var text_tokens: Int?
            public var image_tokens: Int?
        }

        public var input_tokens: Int?
        public var input_tokens_details: Details?
        public var output_tokens: Int?
        public var output_tokens_details: Details?
        public var total_tokens: Int?

        public init(_ usage: AtelierCore.Usage) {
            input_tokens = usage.inputTokens
            input_tokens_details = Details(text_tokens: usage.inputTextTokens, image_tokens: usage.inputImageTokens)
            output_tokens = usage.outputTokens
            output_tokens_details = Details(text_tokens: usage.outputTextTokens, image_tokens: usage.outputImageTokens)
            total_tokens = usage.totalTokens
        }

        /// Atelier's `Usage` (missing counts are 0; output image tokens default to output minus text).
        public var domain: AtelierCore.Usage {
            let input = input_tokens ?? 0
            let output = output_tokens ?? 0
            let outputText = output_tokens_details?.text_tokens ?? 0
            return AtelierCore.Usage(
                inputTokens: input,
                inputTextTokens: input_tokens_details?.text_tokens ?? 0,
                inputImageTokens: input_tokens_details?.image_tokens ?? 0,
                outputTokens: output,
                outputImageTokens: output_tokens_details?.image_tokens ?? (output - outputText),
                outputTextTokens: outputText,
                totalTokens: total_tokens ?? input + output)
        }
    }

    /// One event of a streamed call: `image_generation.partial_image`, `image_edit.completed`, `error`, …
    public struct StreamEvent: Codable, Sendable {
        public var type: String?
        public var b64_json: String?
        public var created_at: Int?
        public var size: String?
        public var quality: String?
        public var background: String?
        public var output_format: String?
        public var partial_image_index: Int?
        public var usage: Usage?
        public var error: ErrorDetail?

        public init(
            type: String?, b64_json: String? = nil, created_at: Int? = nil, size: String? = nil, quality: String? = nil,
            background: String? = nil, output_format: String? = nil, partial_image_index: Int? = nil,
            usage: Usage? = nil, error: ErrorDetail? = nil
        ) {
            self.type = type
            self.b64_json = b64_json
            self.created_at = created_at
            self.size = size
            self.quality = quality
            self.background = background
            self.output_format = output_format
            self.partial_image_index = partial_image_index
            self.usage = usage
            self.error = error
        }
    }

    /// `{"error": {…}}`.
    public struct ErrorEnvelope: Codable, Sendable {
        public var error: ErrorDetail?

        public init(error: ErrorDetail?) { self.error = error }
    }

    /// `{"message", "type", "param", "code"}`; Atelier's answers add `field` (the same as `param`).
    /// Encoded with explicit nulls, as OpenAI sends them; `code` may be a number from some servers.
    public struct ErrorDetail: Codable, Sendable {
        public var message: String?
        public var type: String?
        public var param: String?
        public var code: String?
        public var field: String?

        public init(message: String?, type: String? = nil, param: String? = nil, code: String? = nil, field: String? = nil) {
            self.message = message
            self.type = type
            self.param = param
            self.code = code
            self.field = field
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code, field }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            message = try? container.decodeIfPresent(String.self, forKey: .message)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
            param = try? container.decodeIfPresent(String.self, forKey: .param)
            field = try? container.decodeIfPresent(String.self, forKey: .field)
            if let text = try? container.decodeIfPresent(String.self, forKey: .code) {
                code = text
            } else if let number = try? container.decodeIfPresent(Int.self, forKey: .code) {
                code = String(number)
            } else {
                code = nil
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)
            try c.encode(code, forKey: .code)
            try c.encode(field, forKey: .field)
        }
    }
}
