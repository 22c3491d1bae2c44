import AtelierCore
import Foundation
import ImageProcessing
import Vapor

/// The inputs of an edit job read from its multipart upload: the images (checked from their bytes), the mask
/// converted to what the upstream wants, or the markup; the edit options and the estimated input tokens.
struct EditJobInputs {
    let req: Request
    let upload: MultipartUpload
    let params: ImageParameters

    struct Parts {
        var inputs: [JobInput]
        var options: EditOptions
        var inputTokens: Int
    }

    func read() async throws -> Parts {
        let registry = req.atelier.registry
        let model = registry.model(params.model)!
        let reader = EditInputReader(req: req, upload: upload)
        let fields = EditFormFields(upload: upload)
        let images = try await reader.images(max: model.maxInputImages)
        var inputs = images.map(\.jobInput)
        let base = images[0].info
        let maskColor = try fields.maskEditColor()
        let mask = try await reader.mask(base: base, editColor: maskColor)
        let markup = try await reader.markup(base: base)
        if mask != nil && markup != nil {
            throw APIError.invalid("markup", "markup cannot be combined with mask; send one of them.")
        }
        if mask != nil && params.outputFormat == "gif" {
            throw APIError.invalid("mask", "GIF output cannot use a mask; leave the mask out or choose another output_format.")
        }
        if markup != nil && !model.supportsMarkup {
            throw APIError.invalid(
                "markup",
                "\(model.id) does not accept markup; models that do: "
                    + registry.models.filter(\.supportsMarkup).map(\.id).joined(separator: ", ") + ".")
        }
        if let mask { inputs.append(JobInput(role: .mask, index: 0, source: .upload(mask))) }
        if let markup { inputs.append(markup) }
        let options = try fields.editOptions(
            hasMask: mask != nil, maskColor: maskColor, canComposite: params.outputFormat != "svg")
        let inputTokens = images.reduce(0) { $0 + Self.estimatedImageTokens($1.info) }
        return Parts(inputs: inputs, options: options, inputTokens: inputTokens)
    }

    /// 65 base tokens plus 129 per 512-px tile after fitting into 2048² and scaling the short side to 768.
    static func estimatedImageTokens(_ info: ImageInfo) -> Int {
        var (w, h) = (Double(info.width), Double(info.height))
        let fit = min(1, 2048 / max(w, h))
        w *= fit; h *= fit
        let shrink = min(1, 768 / min(w, h))
        w *= shrink; h *= shrink
        return 65 + 129 * Int((w / 512).rounded(.up) * (h / 512).rounded(.up))
    }
}
