import AtelierCore
import Foundation
import Vapor

/// The one way a request creates a job, called by the native routes (`/v1/generate`, `/v1/edit`, `/v1/mask/auto`)
/// and the OpenAI-compatible routes alike: reads `app_settings` once (kill switch, preview formats, global cap),
/// validates against the registry, admits (moderation, images per minute, spend caps), then `JobEnqueuer` stores
/// the inputs and commits the job with its reservation and its `job.queued` event.
struct JobCreation {
    /// A created job, or the one an Idempotency-Key replayed (`created == false`).
    struct Created {
        var job: JobRecord
        var created: Bool
        /// Its image rows as committed (none for a generate job, its inputs for an edit); nil for a replayed job.
        var images: [ImageRecord]? = nil
        /// The last event its creation stored (`job.queued`, or `job.running` when it started at once): its `job`
        /// member is the job as committed, encoded once for the event and the 202 alike. Nil for a replayed job.
        var eventPayload: String? = nil
    }

    let req: Request
    /// An OpenAI-compatible route creates it (see `JobRecord.compatCaller`).
    var compatCaller = false
    /// Its caller waits for the job's end (the compatible routes, `?wait`): it may start in its admission
    /// transaction on this process's worker, skipping the queue's hop (the fast path, `JobStartNow`).
    var startNow = false

    init(req: Request, compatCaller: Bool = false, startNow: Bool? = nil) {
        self.req = req
        self.compatCaller = compatCaller
        self.startNow = startNow ?? (compatCaller || (req.waitQuery ?? 0) > 0)
    }

    /// A generate job from JSON fields.
    func generate(_ input: ImageRequestInput) async throws -> Created {
        let checked = try await JobAdmission(req: req).check()
        let params = try validated(input, for: .generations, settings: checked.settings)
        let admitted = try await JobAdmission(req: req).admission(params, checked: checked)
        return try await enqueue(.generate, params: params, admitted: admitted)
    }

    /// An edit job from the multipart body (read here, after the kill switch); returns the upload's other fields
    /// too. `checkFields` sees the upload before anything else is decided (the compatible route's own fields).
    func edit(checkFields: (MultipartUpload) throws -> Void = { _ in }) async throws -> (Created, MultipartUpload) {
        let checked = try await JobAdmission(req: req).check()
        let upload = try await readUpload()
        try checkFields(upload)
        let fields = EditFormFields(upload: upload)
        let params = try validated(try fields.imageRequestInput(), for: .edits, settings: checked.settings)
        // Rate limits and caps before any image is decoded.
        let admitted = try await JobAdmission(req: req).admission(params, checked: checked)
        let parts = try await EditJobInputs(req: req, upload: upload, params: params).read()
        let created = try await enqueue(
            .edit, params: params, options: parts.options, inputs: parts.inputs, inputTokens: parts.inputTokens,
            admitted: admitted)
        return (created, upload)
    }

    /// An auto-mask job: the model draws a mask of `subject` on one image.
    func autoMask() async throws -> Created {
        let checked = try await JobAdmission(req: req).check()
        let upload = try await readUpload()
        guard let subject = upload.field("subject")?.trimmingCharacters(in: .whitespacesAndNewlines), !subject.isEmpty else {
            throw APIError.invalid("subject", "Describe what to select, e.g. \"the dog\".", code: "missing_field")
        }
        var input = try EditFormFields(upload: upload).imageRequestInput()
        input.prompt = AutoMaskHandler.prompt(subject: subject)
        input.n = 1
        input.partialImages = nil
        input.outputFormat = "png"
        let params = try validated(input, for: .edits, settings: checked.settings)
        let admitted = try await JobAdmission(req: req).admission(params, checked: checked)
        let images = try await EditInputReader(req: req, upload: upload).images(max: 1)
        return try await enqueue(
            .autoMask, params: params, options: EditOptions(subject: subject), inputs: [images[0].jobInput],
            inputTokens: EditJobInputs.estimatedImageTokens(images[0].info), admitted: admitted)
    }

    private func readUpload() async throws -> MultipartUpload {
        let config = req.atelier.config
        return try await MultipartUpload.read(req, maxFileBytes: config.maxFileBytes, maxTotalBytes: config.maxUploadBytes)
    }

    private func validated(
        _ input: ImageRequestInput, for endpoint: ImageModel.Endpoint, settings: RuntimeSettings
    ) throws -> ImageParameters {
        do { return try req.atelier.validator(settings).validate(input, for: endpoint) } catch { throw error.apiError }
    }

    private func enqueue(
        _ kind: JobKind, params: ImageParameters, options: EditOptions? = nil, inputs: [JobInput] = [],
        inputTokens: Int = 0, admitted: JobAdmission.Admitted
    ) async throws -> Created {
        try await JobEnqueuer(app: req.application).enqueue(
            kind: kind, params: params, options: options, inputs: inputs, owner: req.owner,
            idempotencyKey: req.idempotencyKey, estimatedInputTokens: inputTokens, budget: admitted.budget,
            rateHit: admitted.rateHit, compatCaller: compatCaller, startNow: startNow)
    }
}
