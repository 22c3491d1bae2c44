import AtelierCore
import Foundation
import ImageProcessing
import Vapor

/// A request the stand-in accepted, with everything resolved.
struct ValidatedCall: Sendable {
    var endpoint: Endpoint
    var model: ImageModel
    var prompt: String
    var n: Int
    var width: Int
    var height: Int
    /// As requested (events echo it); "auto" stays "auto".
    var requestedSize: String
    var requestedQuality: String
    var requestedBackground: String
    var quality: String
    var background: String
    var format: ImageFormat
    var compression: Int?
    var stream: Bool
    var partialImages: Int
    var inputImages: [ImageInfo]
    /// GIF or SVG output; `format` is then the raster the frames or the reference are drawn in.
    var preview: StandInPreview? = nil

    var outputFormat: String { preview?.format ?? format.rawValue }
}

struct StandInValidator {
    let registry: ModelRegistry

    static let generationKeys: Set<String> = Set<String>([
        "prompt", "model", "n", "size", "quality", "background", "output_format", "output_compression", "moderation",
        "stream", "partial_images", "user", "safety_identifier", "complexity",
    ]).union(StandInPreview.keys)
    static let editKeys: Set<String> = Set<String>([
        "prompt", "model", "n", "size", "quality", "background", "output_format", "output_compression", "moderation",
        "input_fidelity", "stream", "partial_images", "user", "safety_identifier", "complexity",
    ]).union(StandInPreview.keys)
    static let maxFileBytes = 50 * 1024 * 1024

    func validate(_ call: ParsedCall, endpoint: Endpoint) throws(APIError) -> ValidatedCall {
        let allowed = endpoint == .generations ? Self.generationKeys : Self.editKeys
        // Report unknown parameters first, in the order sent (response_format included).
        for key in call.fieldOrder where !allowed.contains(key) {
            throw .unknownParameter(key)
        }
        for file in call.files where !["image", "image[]", "mask", "markup"].contains(file.name) {
            throw .unknownParameter(file.name)
        }
        if endpoint == .generations, let file = call.files.first { throw .unknownParameter(file.name) }

        // Model.
        let defaultModel = endpoint == .edits ? "gpt-image-1.5" : registry.defaultModel
        let modelID = try call.string("model") ?? defaultModel
        if registry.retired.contains(where: { $0.id == modelID }) { throw .modelNotFound(modelID) }
        guard let model = registry.model(modelID) else { throw .modelNotFound(modelID) }
        guard model.supports(endpoint == .edits ? .edits : .generations) else {
            throw .invalidValue(
                "model", "Invalid value: '\(modelID)'. The model does not support image \(endpoint == .edits ? "edits" : "generations").")
        }

        // Prompt.
        guard let prompt = try call.string("prompt") else { throw .missing("prompt") }
        guard !prompt.isEmpty else {
            throw APIError(
                status: .badRequest, message: "Invalid 'prompt': empty string. Expected a string with minimum length 1.",
                param: "prompt", code: "empty_string")
        }
        if prompt.count > model.maxPromptLength {
            throw APIError(
                status: .badRequest,
                message:
                    "Invalid 'prompt': string too long. Expected a string with maximum length \(model.maxPromptLength), but got a string with length \(prompt.count) instead.",
                param: "prompt", code: "string_above_max_length")
        }

        // n.
        let n = try call.int("n") ?? 1
        guard (1...model.maxN).contains(n) else {
            throw .invalidValue("n", "Invalid value for 'n': \(n). Expected an integer between 1 and \(model.maxN).")
        }

        // Size.
        let requestedSize = try call.string("size") ?? "auto"
        let width: Int
        let height: Int
        if requestedSize == "auto" {
            guard model.sizes.auto else {
                throw .invalidValue("size", "Invalid value: 'auto'. Supported values are: \(model.sizes.allowedDescription).")
            }
            (width, height) = (1024, 1024)
        } else if let dims = SizeRule.dimensions(of: requestedSize),
            model.sizes.fixed.contains(requestedSize)
                || model.sizes.free?.problem(width: dims.width, height: dims.height) == nil
                    && model.sizes.free != nil
        {
            (width, height) = dims
        } else {
            var reason = "Supported values are: \(model.sizes.allowedDescription)."
            if let dims = SizeRule.dimensions(of: requestedSize), let free = model.sizes.free,
                let problem = free.problem(width: dims.width, height: dims.height)
            {
                reason = "For \(model.id) \(problem)."
            }
            throw .invalidValue("size", "Invalid value: '\(requestedSize)'. \(reason)")
        }

        // Enumerations.
        let requestedQuality = try call.string("quality") ?? "auto"
        guard model.qualities.contains(requestedQuality) else {
            throw .invalidValue(
                "quality", "Invalid value: '\(requestedQuality)'. Supported values are: \(quoted(model.qualities)).")
        }
        let formatText = try call.string("output_format") ?? "png"
        let isPreview = ["gif", "svg"].contains(formatText) && (model.previewFormats ?? []).contains(formatText)
        guard isPreview || model.outputFormats.contains(formatText),
            let format = isPreview ? ImageFormat.png : ImageFormat(rawValue: formatText)
        else {
            throw .invalidValue(
                "output_format", "Invalid value: '\(formatText)'. Supported values are: \(quoted(model.outputFormats)).")
        }
        let requestedBackground = try call.string("background") ?? "auto"
        guard model.backgrounds.contains(requestedBackground) else {
            throw .invalidValue(
                "background", "Invalid value: '\(requestedBackground)'. Supported values are: \(quoted(model.backgrounds)).")
        }
        if requestedBackground == "transparent", format == .jpeg || isPreview {
            throw .invalidValue(
                "background", "Transparent background requires output_format 'png' or 'webp', not 'jpeg'.")
        }
        let compression = try call.int("output_compression")
        if let compression, !(0...100).contains(compression) {
            throw .invalidValue(
                "output_compression", "Invalid value for 'output_compression': \(compression). Expected an integer between 0 and 100.")
        }
        if let moderation = try call.string("moderation"), !model.moderations.contains(moderation) {
            throw .invalidValue("moderation", "Invalid value: '\(moderation)'. Supported values are: \(quoted(model.moderations)).")
        }
        if let complexity = try call.string("complexity") {
            guard model.complexities.contains(complexity) else {
                throw .invalidValue(
                    "complexity",
                    model.complexities.isEmpty
                        ? "The 'complexity' parameter is not supported for model \(model.id)."
                        : "Invalid value: '\(complexity)'. Supported values are: \(quoted(model.complexities)).")
            }
        }
        if let fidelity = try call.string("input_fidelity") {
            guard model.inputFidelities.contains(fidelity) else {
                throw .invalidValue(
                    "input_fidelity",
                    model.inputFidelities.isEmpty
                        ? "The 'input_fidelity' parameter is not supported for model \(model.id); omit it."
                        : "Invalid value: '\(fidelity)'. Supported values are: \(quoted(model.inputFidelities)).")
            }
        }
        _ = try call.string("user")
        _ = try call.string("safety_identifier")
        let stream = try call.bool("stream") ?? false
        let partialImages = try call.int("partial_images") ?? 0
        guard (0...model.maxPartialImages).contains(partialImages) else {
            throw .invalidValue(
                "partial_images",
                "Invalid value for 'partial_images': \(partialImages). Expected an integer between 0 and \(model.maxPartialImages).")
        }

        // Files (edits).
        var inputs: [ImageInfo] = []
        if endpoint == .edits {
            let images = call.files.filter { $0.name == "image" || $0.name == "image[]" }
            guard !images.isEmpty else { throw .missing("image") }
            guard images.count <= model.maxInputImages else {
                throw .invalidValue(
                    "image", "Invalid 'image': too many images (\(images.count)). Expected at most \(model.maxInputImages).")
            }
            for image in images { inputs.append(try Self.checkImage(image, param: "image")) }
            let mask = call.files.first { $0.name == "mask" }
            let markup = call.files.first { $0.name == "markup" }
            if let mask {
                let info: ImageInfo
                do { info = try Self.checkImage(mask, param: "mask") } catch {
                    throw .invalidValue("mask", "Invalid mask: \(error.message)")
                }
                guard info.format == .png, info.hasAlpha else {
                    throw .invalidValue("mask", "Invalid mask image: the mask must be a PNG with an alpha channel.")
                }
                guard info.width == inputs[0].width, info.height == inputs[0].height else {
                    throw .invalidValue(
                        "mask",
                        "Invalid mask image: mask size \(info.width)x\(info.height) does not match the first image (\(inputs[0].width)x\(inputs[0].height))."
                    )
                }
            }
            if let markup {
                guard model.supportsMarkup else {
                    throw .invalidValue("markup", "The 'markup' parameter is not supported for model \(model.id).")
                }
                guard mask == nil else { throw .invalidValue("markup", "'markup' cannot be combined with 'mask'.") }
                let info: ImageInfo
                do { info = try Self.checkImage(markup, param: "markup") } catch {
                    throw .invalidValue("markup", "Invalid markup: \(error.message)")
                }
                guard info.format == .png, info.hasAlpha, info.width == inputs[0].width, info.height == inputs[0].height
                else {
                    throw .invalidValue(
                        "markup", "Invalid markup image: it must be a transparent PNG the size of the first image.")
                }
            }
        }

        let preview = try StandInPreview.parse(
            call, format: formatText, model: model, registry: registry, n: n, stream: stream, partials: partialImages,
            compression: compression, hasMask: call.files.contains { $0.name == "mask" })
        let quality = requestedQuality == "auto" ? "high" : requestedQuality
        let background = requestedBackground == "transparent" ? "transparent" : "opaque"
        return ValidatedCall(
            endpoint: endpoint, model: model, prompt: prompt, n: n, width: width, height: height,
            requestedSize: requestedSize, requestedQuality: requestedQuality, requestedBackground: requestedBackground,
            quality: quality, background: background, format: format, compression: compression, stream: stream,
            partialImages: stream ? partialImages : 0, inputImages: inputs, preview: preview)
    }

    private func quoted(_ values: [String]) -> String { values.map { "'\($0)'" }.joined(separator: ", ") }

    static let allowedTypes = ["image/png", "image/jpeg", "image/webp"]

    /// The upstream's per-file rules: png/jpeg/webp by bytes, a matching declared type, < 50 MB.
    static func checkImage(_ part: UploadedPart, param: String) throws(APIError) -> ImageInfo {
        let declared = part.contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let declared, !declared.isEmpty else {
            throw APIError(
                status: .badRequest,
                message:
                    "Invalid file '\(param)': missing mimetype. Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
                param: param, code: "missing_file_mimetype")
        }
        guard allowedTypes.contains(declared) else {
            throw APIError(
                status: .badRequest,
                message:
                    "Invalid file '\(param)': unsupported mimetype ('\(declared)'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
                param: param, code: "unsupported_file_mimetype")
        }
        guard part.data.count < maxFileBytes else {
            throw APIError(
                status: .badRequest, message: "Invalid file '\(param)': the file must be smaller than 50 MB.", param: param,
                code: "file_too_large")
        }
        let info: ImageInfo
        do { info = try ImageProcessing.probe(part.data) } catch {
            throw APIError(
                status: .badRequest,
                message: "Invalid image file or mode for image '\(param)', please check your image file.", param: param,
                code: "invalid_image_file")
        }
        guard info.format.mimeType == declared else {
            throw APIError(
                status: .badRequest,
                message: "Invalid image file for '\(param)': declared \(declared) but the file is \(info.format.mimeType).",
                param: param, code: "invalid_image_file")
        }
        return info
    }
}
