import AtelierCore
import Fluent
import Foundation
import ImageProcessing
import Vapor

/// Checks every input of an edit from its bytes (format, header dimensions, pixel limit, EXIF orientation)
/// before anything is written, and turns masks into a PNG with alpha at the first image's size.
struct EditInputReader: @unchecked Sendable {
    struct Checked {
        var index: Int
        var info: ImageInfo
        var source: JobInput.Source
        var thumbnail: Data?

        var jobInput: JobInput { JobInput(role: .input, index: index, source: source, thumbnail: thumbnail) }
    }

    let req: Request
    let upload: MultipartUpload

    /// Uploaded images and `image_id` references, in the order their parts were sent; 1…max.
    func images(max: Int) async throws -> [Checked] {
        enum Part { case file(MultipartUpload.File), stored(String) }
        let files = upload.files.filter { EditController.imageFields.contains($0.field) }
        let ids = upload.sequencedValues(["image_id", "image_id[]"])
        let parts = (files.map { ($0.sequence, Part.file($0)) } + ids.map { ($0.sequence, Part.stored($0.value)) })
            .sorted { $0.0 < $1.0 }.map(\.1)
        guard !parts.isEmpty else {
            throw APIError.invalid(
                "image", "Send 1 to \(max) images as 'image', 'image[]' or 'files[]' parts, or as image_id.", code: "missing_field")
        }
        guard parts.count <= max else {
            throw APIError.invalid("image", "\(parts.count) images were sent; this model accepts at most \(max).")
        }
        var checked: [Checked] = []
        for (index, part) in parts.enumerated() {
            switch part {
            case .file(let file):
                let field = parts.count == 1 ? file.field : "image[\(index)]"
                let data = try Data(contentsOf: file.url)
                let (info, normalized, thumbnail) = try await decoding { try inspect(data, field: field, filename: file.filename) }
                let source: JobInput.Source = normalized.map { .upload($0) } ?? .file(file.url, sha256: file.sha256)
                checked.append(Checked(index: index, info: info, source: source, thumbnail: thumbnail))
            case .stored(let text):
                let image = try await storedImage(text, field: "image_id")
                guard ImageFormat(rawValue: image.format) != nil else {
                    throw APIError.invalid(
                        "image_id", "Image '\(text)' is a \(image.format.uppercased()); edits take PNG, JPEG or WebP images.")
                }
                let info = ImageInfo(
                    format: ImageFormat(rawValue: image.format) ?? .png, width: image.width, height: image.height,
                    hasAlpha: false)
                checked.append(Checked(index: index, info: info, source: .stored(image), thumbnail: nil))
            }
        }
        return checked
    }

    /// The mask (uploaded or `mask_id`) converted to a PNG with alpha of the base image's size.
    func mask(base: ImageInfo, editColor: MaskEditColor) async throws -> Data? {
        let data: Data
        if let file = upload.files.first(where: { $0.field == "mask" }) {
            data = try Data(contentsOf: file.url)
            _ = try await decoding { try inspect(data, field: "mask", filename: file.filename) }
        } else if let id = upload.field("mask_id") {
            let image = try await storedImage(id, field: "mask_id")
            data = try await req.atelier.blobs.get(try ImageStore.key(image.blobKey))
        } else {
            return nil
        }
        do {
            return try ImageProcessing.prepareMask(
                data, baseWidth: base.width, baseHeight: base.height, editColor: editColor)
        } catch let error as ImageProcessingError {
            throw APIError.invalid("mask", "The mask cannot be used: \(error.message)", code: "invalid_mask")
        }
    }

    /// Markup: a PNG with alpha of exactly the base image's size.
    func markup(base: ImageInfo) async throws -> JobInput? {
        guard let file = upload.files.first(where: { $0.field == "markup" }) else { return nil }
        let data = try Data(contentsOf: file.url)
        let (info, _, thumbnail) = try inspect(data, field: "markup", filename: file.filename)
        guard info.format == .png, info.hasAlpha, info.width == base.width, info.height == base.height else {
            throw APIError.invalid(
                "markup",
                "markup must be a PNG with transparency of exactly \(base.width)×\(base.height) (the first image's size); got \(info.format.rawValue) \(info.width)×\(info.height).",
                code: "invalid_markup")
        }
        return JobInput(role: .markup, index: 0, source: .file(file.url, sha256: file.sha256), thumbnail: thumbnail)
    }

    /// Probes the header (format from the bytes, pixel limit before any decoding), then decodes the whole image
    /// once by making its thumbnail, so a truncated or corrupt file is refused here and not in the worker.
    /// Returns re-encoded upright bytes when EXIF orientation had to be applied.
    /// Runs image decoding on its own bounded pool (`Application.imageDecodingPool`).
    private func decoding<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await req.application.imageDecodingPool.runIfActive(work)
    }

    private func inspect(_ data: Data, field: String, filename: String) throws -> (ImageInfo, Data?, Data) {
        do {
            let info = try ImageProcessing.probe(data)
            let upright = try ImageProcessing.normalizedOrientation(data)
            let thumbnail = try ImageProcessing.thumbnail(upright)
            return (info, upright == data ? nil : upright, thumbnail)
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
