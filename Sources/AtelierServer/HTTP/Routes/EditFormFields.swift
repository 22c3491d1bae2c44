import AtelierCore
import ImageProcessing
import Vapor

/// The text fields of an edit form, parsed with errors that name the field.
struct EditFormFields {
    let upload: MultipartUpload

    func imageRequestInput() throws -> ImageRequestInput {
        ImageRequestInput(
            prompt: upload.field("prompt"), model: text("model"), n: try int("n"), size: text("size"),
            quality: text("quality"), background: text("background"),
            outputFormat: text("output_format") ?? text("format"),
            outputCompression: try int("output_compression") ?? int("compression"), moderation: text("moderation"),
            complexity: text("complexity"), partialImages: try int("partial_images"), inputFidelity: text("input_fidelity"),
            frameCount: try int("frame_count"), frameDurationMs: try int("frame_duration_ms"), svg: svgOptions())
    }

    /// `svg[model]` and `svg[reasoning][effort]`, the SDK's multipart names for the `svg` object.
    private func svgOptions() -> SvgOptions? {
        let model = text("svg[model]"), effort = text("svg[reasoning][effort]")
        return model == nil && effort == nil ? nil : SvgOptions(model: model, reasoningEffort: effort)
    }

    func maskEditColor() throws -> MaskEditColor {
        guard let value = text("mask_edit_color") else { return .black }
        guard let color = MaskEditColor(rawValue: value) else {
            throw APIError.invalid(
                "mask_edit_color",
                "mask_edit_color must be black or white (the colour that marks the area to edit in a mask without transparency).")
        }
        return color
    }

    /// `canComposite` is false for SVG output (vector output cannot be composited with the original pixels).
    func editOptions(hasMask: Bool, maskColor: MaskEditColor, canComposite: Bool = true) throws -> EditOptions {
        let preserve = try bool("preserve_unmasked") ?? (hasMask && canComposite)
        if preserve && !hasMask {
            throw APIError.invalid("preserve_unmasked", "preserve_unmasked needs a mask (or mask_id).")
        }
        if preserve && !canComposite {
            throw APIError.invalid(
                "preserve_unmasked", "preserve_unmasked cannot be used with SVG output; leave it out or set it to false.")
        }
        let feather = try int("feather") ?? 8
        guard (0...256).contains(feather) else {
            throw APIError.invalid("feather", "feather must be a radius in pixels between 0 and 256.")
        }
        return EditOptions(preserveUnmasked: preserve, featherRadius: feather, maskEditColor: maskColor.rawValue)
    }

    private func text(_ name: String) -> String? {
        guard let value = upload.field(name)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    private func int(_ name: String) throws -> Int? {
        guard let value = text(name) else { return nil }
        guard let number = Int(value) else { throw APIError.invalid(name, "\(name) must be a whole number; got '\(value)'.") }
        return number
    }

    private func bool(_ name: String) throws -> Bool? {
        guard let value = text(name)?.lowercased() else { return nil }
        if ["true", "1", "on", "yes"].contains(value) { return true }
        if ["false", "0", "off", "no"].contains(value) { return false }
        throw APIError.invalid(name, "\(name) must be true or false; got '\(value)'.")
    }
}
