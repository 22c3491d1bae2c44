import Foundation
import MCP

/// `edit_image` and `create_mask` arguments as the multipart forms of `POST /v1/edit` and `/v1/mask/auto`.
enum EditForms {
    static func edit(_ args: ToolArguments, options: Set<String>) throws -> APIRequest {
        var form = MultipartForm()
        for name in options.sorted() + ["mask_id", "preserve_unmasked", "feather"] {
            if let value = try args.formText(name) { form.field(name, value) }
        }
        for (index, id) in try args.strings("image_ids").enumerated() {
            guard let text = id.stringValue else { throw ToolArguments.wrongType("image_ids[\(index)]", "an image id") }
            form.field("image_id", text)
        }
        for (index, image) in try args.strings("images").enumerated() {
            form.file("image[]", filename: "image-\(index + 1)", try ToolArguments.imageData(image, field: "images[\(index)]"))
        }
        if let mask = args.values["mask"], !mask.isNull {
            form.file("mask", filename: "mask", try ToolArguments.imageData(mask, field: "mask"))
        }
        return form.request("/v1/edit")
    }

    static func mask(_ args: ToolArguments) throws -> APIRequest {
        var form = MultipartForm()
        form.field("subject", try args.requiredString("subject"))
        if let id = try args.string("image_id") { form.field("image_id", id) }
        if let image = args.values["image"], !image.isNull {
            form.file("image", filename: "image", try ToolArguments.imageData(image, field: "image"))
        }
        return form.request("/v1/mask/auto")
    }
}
