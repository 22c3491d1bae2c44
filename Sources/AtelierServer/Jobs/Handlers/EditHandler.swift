import AtelierCore
import Fluent
import Foundation
import ImageProcessing

/// Image(s) + prompt (+ mask or markup) to image. With a mask and `preserve_unmasked`, the first input is
/// composited back outside the mask so pixels there stay exactly as they were; the raw upstream output and a
/// changed-pixels map are stored beside the composite.
struct EditHandler: Sendable {
    let context: WorkerContext

    func run(
        _ job: JobRecord, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws -> JobOutcome {
        let inputs = try await job.$images.query(on: context.database).sort(\.$index).all()
        let images = inputs.filter { $0.role == ImageRecord.Role.input.rawValue }
        guard !images.isEmpty else { throw JobFailure(code: "missing_input", message: "The edit has no input image.") }
        let mask = inputs.first { $0.role == ImageRecord.Role.mask.rawValue }
        let markup = inputs.first { $0.role == ImageRecord.Role.markup.rawValue }
        let request = ProviderRequest(
            parameters: job.params, images: try await images.asyncMap(upload), mask: try await mask.asyncMap(upload),
            markup: try await markup.asyncMap(upload), safetyIdentifier: SafetyIdentifier.forOwner(job.owner))
        let result = try await context.callProvider(request, kind: job.kind, onPartial: onPartial)
        let builder = OutcomeBuilder(context: context, job: job)
        guard let mask, let first = images.first, job.options?.preserveUnmasked == true else {
            return try await builder.outputs(result.images, from: result)
        }
        let original = try await context.images.data(of: first)
        let maskData = try await context.images.data(of: mask)
        let format = ImageFormat(rawValue: job.params.outputFormat) ?? .png
        var composites: [Data] = []
        var extras: [(Data, ImageRecord.Role, Int)] = []
        for (index, raw) in result.images.enumerated() {
            let (composite, changes) = try ImageProcessing.compositePreservingUnmasked(
                original: original, edited: raw, mask: maskData, featherRadius: job.options?.featherRadius ?? 8,
                format: format)
            composites.append(composite)
            extras.append((raw, .raw, index))
            extras.append((changes, .changes, index))
        }
        var outcome = try await builder.outputs(composites, from: result)
        let jobID = try job.requireID()
        for (data, role, index) in extras {
            outcome.images.append(
                try await context.images.store(
                    data, job: jobID, owner: job.owner, role: role, index: index, attempt: job.attempts))
        }
        return outcome
    }

    private func upload(_ image: ImageRecord) async throws -> ImageUpload {
        try await context.images.upload(of: image, filename: "\(image.role)-\(image.index)")
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        results.reserveCapacity(count)
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
