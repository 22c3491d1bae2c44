import AtelierCore
import Foundation
import ImageProcessing

/// GIF and SVG output (preview formats) in the stand-in: the upstream's rules for them, a real animated GIF
/// (frames encoded by libvips' gifsave) and a real SVG document with its `svg_usage`.
enum StandInPreview: Sendable, Equatable {
    case gif(frames: Int, frameDurationMs: Int)
    case svg(author: String?, effort: String?)

    var format: String {
        switch self {
        case .gif: "gif"
        case .svg: "svg"
        }
    }

    static let keys: Set<String> = ["frame_count", "frame_duration_ms", "svg", "svg[model]", "svg[reasoning][effort]"]

    /// The preview options of a call whose `output_format` is `format`; nil for other formats (which must not carry
    /// GIF or SVG options). This stand-in has preview access to every model whose `preview_formats` list the format.
    static func parse(
        _ call: ParsedCall, format: String, model: ImageModel, registry: ModelRegistry, n: Int, stream: Bool,
        partials: Int, compression: Int?, hasMask: Bool
    ) throws(APIError) -> StandInPreview? {
        let frameCount = try call.int("frame_count")
        let frameDuration = try call.int("frame_duration_ms")
        let svg = try svgObject(call)
        guard format == "gif" || format == "svg" else {
            if frameCount != nil { throw .invalidValue("frame_count", "'frame_count' is only supported with output_format=gif.") }
            if frameDuration != nil {
                throw .invalidValue("frame_duration_ms", "'frame_duration_ms' is only supported with output_format=gif.")
            }
            if svg != nil { throw .invalidValue("svg", "'svg' is only supported with output_format=svg.") }
            return nil
        }
        guard (model.previewFormats ?? []).contains(format) else {
            throw .invalidValue("output_format", "Your project does not have access to \(format) output for model \(model.id).")
        }
        if stream || partials > 0 {
            throw .invalidValue("stream", "\(format.uppercased()) output does not support streaming or partial images.")
        }
        if compression != nil {
            throw .invalidValue("output_compression", "\(format.uppercased()) output does not support output_compression.")
        }
        if format == "gif" {
            if hasMask { throw .invalidValue("mask", "GIF output does not support masks.") }
            if svg != nil { throw .invalidValue("svg", "'svg' is only supported with output_format=svg.") }
            let frames = frameCount ?? 9
            guard (2...16).contains(frames) else {
                throw .invalidValue("frame_count", "Invalid value for 'frame_count': \(frames). Expected an integer between 2 and 16.")
            }
            let duration = frameDuration ?? 200
            guard (1...655_350).contains(duration) else {
                throw .invalidValue(
                    "frame_duration_ms", "Invalid value for 'frame_duration_ms': \(duration). Expected 1 to 655350 milliseconds.")
            }
            return .gif(frames: frames, frameDurationMs: duration)
        }
        if frameCount != nil || frameDuration != nil {
            throw .invalidValue(
                frameCount != nil ? "frame_count" : "frame_duration_ms", "Frame options are only supported with output_format=gif.")
        }
        guard n == 1 else { throw .invalidValue("n", "SVG generation requires n=1.") }
        guard let svg else { return .svg(author: nil, effort: nil) }
        guard let author = svg.model else { throw .invalidValue("svg.model", "SVG generation requires 'svg.model'.") }
        guard let known = registry.svgAuthoring?.author(author) else {
            throw .invalidValue("svg.model", "Invalid value: '\(author)'. The model cannot author SVG output.")
        }
        if let effort = svg.reasoningEffort, !known.reasoningEfforts.contains(effort) {
            throw .invalidValue(
                "svg.reasoning.effort",
                "Invalid value: '\(effort)'. Supported values are: \(known.reasoningEfforts.joined(separator: ", ")).")
        }
        return .svg(author: author, effort: svg.reasoningEffort)
    }

    /// JSON: the `svg` object; multipart: `svg[model]` and `svg[reasoning][effort]` (how the SDK flattens it).
    static func svgObject(_ call: ParsedCall) throws(APIError) -> SvgOptions? {
        if let json = call.rawJSON {
            struct Body: Decodable { var svg: SvgOptions? }
            do { return try JSONDecoder().decode(Body.self, from: json).svg } catch {
                throw .invalidValue("svg", "Invalid type for 'svg': expected an object {model, reasoning: {effort}}.")
            }
        }
        let model = try call.string("svg[model]"), effort = try call.string("svg[reasoning][effort]")
        return model == nil && effort == nil ? nil : SvgOptions(model: model, reasoningEffort: effort)
    }

    /// `frames` synthetic pictures of the call's size (one seed per frame) joined into an animated GIF.
    static func gif(frames: Int, frameDurationMs: Int, make: (Int) throws -> Data) throws -> Data {
        try ImageProcessing.animatedGIF(frames: (0..<frames).map(make), frameDurationMs: frameDurationMs)
    }

    /// The stand-in's `svg_usage` rule: input = prompt characters / 4 + 500; reasoning = 0 (none), 250 (low),
    /// 1,000 (medium or the default), 4,000 (high), 8,000 (xhigh), 16,000 (max); output = document bytes / 4 + reasoning.
    static func svgUsage(author: String?, effort: String?, prompt: String, documentBytes: Int, registry: ModelRegistry) -> [String: Any] {
        let reasoning = ["none": 0, "low": 250, "high": 4000, "xhigh": 8000, "max": 16000][effort ?? "medium"] ?? 1000
        let input = prompt.count / 4 + 500
        let output = documentBytes / 4 + reasoning
        return [
            "model": author ?? registry.svgAuthoring?.defaultAuthor ?? "gpt-5.6-terra", "input_tokens": input,
            "output_tokens": output, "reasoning_tokens": reasoning, "total_tokens": input + output,
        ]
    }
}
