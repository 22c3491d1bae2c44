import AtelierCore
import Fluent
import Foundation
import ImageProcessing

/// Asks the upstream edit endpoint for a black-and-white matte of a subject and turns it into an alpha mask
/// of the input's size (transparent = the subject, i.e. "edit here"), stored as an image usable as `mask_id`.
struct AutoMaskHandler: Sendable {
    let context: WorkerContext

    static func prompt(subject: String) -> String {
        "Create a black and white segmentation matte of this image: paint \(subject) pure white and everything else "
            + "pure black. No shading, no other colours, same framing as the input."
    }

    func run(_ job: JobRecord) async throws -> JobOutcome {
        guard
            let input = try await job.$images.query(on: context.database)
                .filter(\.$role == ImageRecord.Role.input.rawValue).first()
        else { throw JobFailure(code: "missing_input", message: "The auto-mask job has no input image.") }
        let request = ProviderRequest(
            parameters: job.params, images: [try await context.images.upload(of: input, filename: "image")],
            safetyIdentifier: SafetyIdentifier.forOwner(job.owner))
        let result = try await context.callProvider(request, kind: job.kind)
        guard let matte = result.images.first else {
            throw ProviderError.invalidResponse(message: "the upstream returned no matte")
        }
        let mask = try ImageProcessing.alphaMask(fromSubjectMatte: matte, width: input.width, height: input.height)
        return try await OutcomeBuilder(context: context, job: job).outputs([mask], from: result)
    }
}
