import AtelierCore
import Fluent
import Foundation
import ImageProcessing
import Vapor

/// Checks every input of an edit from its bytes (format, header dimensions, pixel limit, EXIF orientation)
/// before anything is written, and turns masks into a PNG with alpha at the first image's size.
struct EditInputReader {
    struct Checked {
        var index: Int
        var info: ImageInfo
        var source: JobInput.Source
    }

    let req: Request
    let upload: MultipartUpload

    /// Uploaded images in the order sent, then `image_id` references; 1…max.
    func images(max: Int) async throws -> [Checked] {
        let files = upload.files.filter { EditController.imageFields.contains($0.field) }
        let ids = upload.fieldValues("image_id") + upload.fieldValues("image_id[]")
        let count = files.count + ids.count
        guard count >= 1 else {
            throw APIError.invalid("image", "Send 1 to \(max) images as 'image', 'image[]' or 'files[]' parts, or as image_id.", code: "missing_field")
        }
        guard count <= max else {
            throw APIError.invalid("image", "\(count) images were sent; this model accepts at most \(max).")
        }
        var checked: [Checked] = []
        for (index, file) in files.enumerated() {
            let field = files.count == 1 && ids.isEmpty ? file.field : "image[\(index)]"
            let data = try Data(contentsOf: file.url)
            let (info, normalized) = try inspect(data, field: field, filename: file.filename)
            let source: JobInput.Source = normalized.map { .upload($0) } ?? .file(file.url, sha256: file.sha256)
            checked.append(Checked(index: index, info: info, source: source))
        }
        for (offset, text) in ids.enumerated() {
            let image = try await storedImage(text, field: "image_id")
            let info = ImageInfo(format: ImageFormat(rawValue: image.format) ?? .png, width: image.width, height: image.height, hasAlpha: false)
            checked.append(Checked(index: files.count + offset, info: info, source: .stored(image)))
        }
        return checked
    }

    /// The mask (uploaded or `mask_id`) converted to a PNG with alpha of the base image's size.
    func mask(base: ImageInfo, editColor: MaskEditColorChoice) async throws -> Data? {
        let data: Data
        if let file = upload.files.first(where: { $0.field == "mask" }) {
            data = try Data(contentsOf: file.url)
            _ = try inspect(data, field: "mask", filename: file.filename)
        } else if let id = upload.field("mask_id") {
            let image = try await storedImage(id, field: "mask_id")
            data = try await req.atelier.blobs.get(try ImageStore.key(image.blobKey))
        } else {
            return nil
        }
        do {
            return try ImageProcessing.prepareMask(
                data, baseWidth: base.width, baseHeight: base.height, editColor: editColor == .white ? .white : .black)
        } catch let error as ImageProcessingError {
            throw APIError.invalid("mask", "The mask cannot be used: \(error.message)", code: "invalid_mask")
        }
    }

    /// Markup: a PNG with alpha of exactly the base image's size.
    func markup(base: ImageInfo) async throws -> JobInput.Source? {
        guard let file = upload.files.first(where: { $0.field == "markup" }) else { return nil }
        let data = try Data(contentsOf: file.url)
        let (info, _) = try inspect(data, field: "markup", filename: file.filename)
        guard info.format == .png, info.hasAlpha, info.width == base.width, info.height == base.height else {
            throw APIError.invalid(
                "markup", "markup must be a PNG with transparency of exactly \(base.width)×\(base.height) (the first image's size); got \(info.format.rawValue) \(info.width)×\(info.height).",
                code: "invalid_markup")
        }
        return .file(file.url, sha256: file.sha256)
    }

    /// Probes the bytes; returns re-encoded upright bytes when EXIF orientation had to be applied.
    private func inspect(_ data: Data, field: String, filename: String) throws -> (ImageInfo, Data?) {
        do {
            let info = try ImageProcessing.probe(data)
            let upright = try ImageProcessing.normalizedOrientation(data)
            return (info, upright == data ? nil : upright)
        } catch let error as ImageProcessingError {
            throw APIError.invalid(field, "'\(filename)' (\(field)) cannot be used: \(error.message)", code: "invalid_image")
        }
    }

    private func storedImage(_ text: String, field: String) async throws -> ImageRecord {
        guard let id = UUID(uuidString: text), let image = try await ImageRecord.find(id, on: req.db), image.owner == req.owner else {
            throw APIError(status: .notFound, code: "not_found", message: "No stored image with id '\(text)'.", field: field)
        }
        return image
    }
}
