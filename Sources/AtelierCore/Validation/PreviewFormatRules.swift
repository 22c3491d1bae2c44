/// The rules of the preview output formats: GIF (`frame_count`, `frame_duration_ms`) and SVG (`svg`, n = 1).
/// Neither streams, makes partial images or takes `output_compression` (refused for any format but jpeg/webp).
extension ImageRequestValidator {
    public static let frameCounts = 2...16
    public static let defaultFrameCount = 9
    /// Browsers show delays under 20 ms as 100 ms; above 10 s a frame is a still. The upstream rounds to 10 ms.
    public static let frameDurations = 20...10_000
    public static let defaultFrameDurationMs = 200
    public static let previewFormats = ["gif", "svg"]

    struct PreviewOptions {
        var frameCount: Int?
        var frameDurationMs: Int?
        var svg: SvgOptions?
    }

    func validateFormat(_ value: String?, model: ImageModel) throws(ValidationError) -> String {
        let format = value ?? "png"
        if Self.previewFormats.contains(format), (model.previewFormats ?? []).contains(format),
            !enabledPreviewFormats.contains(format)
        {
            throw ValidationError(
                code: "preview_not_enabled", field: "output_format",
                message:
                    "output_format '\(format)' is a preview feature that is not enabled on this server (OPENAI_PREVIEW_FORMATS or the admin page). Allowed: \(model.outputFormats.joined(separator: ", "))."
            )
        }
        return try pick(
            "output_format", format, default: "png", from: model.outputFormats(enabledPreviews: enabledPreviewFormats),
            model: model)
    }

    func previewOptions(
        _ input: ImageRequestInput, format: String, n: Int, partials: Int
    ) throws(ValidationError) -> PreviewOptions {
        if format != "gif" {
            for (field, value) in [("frame_count", input.frameCount), ("frame_duration_ms", input.frameDurationMs)]
            where value != nil {
                throw ValidationError(field: field, message: "\(field) applies to output_format gif only; the format is \(format).")
            }
        }
        if format != "svg", input.svg != nil {
            throw ValidationError(field: "svg", message: "svg applies to output_format svg only; the format is \(format).")
        }
        guard format == "gif" || format == "svg" else { return PreviewOptions() }
        if partials > 0 {
            throw ValidationError(
                field: "partial_images", message: "\(format.uppercased()) output cannot stream partial images; set partial_images to 0.")
        }
        if format == "gif" {
            let frames = input.frameCount ?? Self.defaultFrameCount
            guard Self.frameCounts.contains(frames) else {
                throw ValidationError(field: "frame_count", message: "frame_count must be between 2 and 16; got \(frames).")
            }
            let duration = input.frameDurationMs ?? Self.defaultFrameDurationMs
            guard Self.frameDurations.contains(duration) else {
                throw ValidationError(
                    field: "frame_duration_ms", message: "frame_duration_ms must be between 20 and 10000; got \(duration).")
            }
            return PreviewOptions(frameCount: frames, frameDurationMs: duration)
        }
        guard n == 1 else { throw ValidationError(field: "n", message: "SVG output makes one image: n must be 1; got \(n).") }
        return PreviewOptions(svg: try validateSvg(input.svg))
    }

    private func validateSvg(_ svg: SvgOptions?) throws(ValidationError) -> SvgOptions? {
        guard let svg else { return nil }
        let authors = registry.svgAuthoring?.authors ?? []
        guard let id = svg.model else {
            if svg.reasoningEffort != nil {
                throw ValidationError(
                    code: "missing_field", field: "svg.model", message: "svg.reasoning.effort needs svg.model (the author model).")
            }
            return nil
        }
        guard let author = authors.first(where: { $0.id == id }) else {
            throw .notAllowed("svg.model", id, allowed: authors.map(\.id), model: "SVG output")
        }
        if let effort = svg.reasoningEffort, !author.reasoningEfforts.contains(effort) {
            throw .notAllowed("svg.reasoning.effort", effort, allowed: author.reasoningEfforts, model: author.id)
        }
        return svg
    }
}
