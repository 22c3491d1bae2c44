import AtelierCore
import Fluent
import ImageProcessing
import Vapor

/// `POST /v1/edit` and `POST /v1/mask/auto`: multipart uploads (or stored image ids) checked from their bytes,
/// masks converted to what the upstream wants, then one job.
struct EditController: RouteCollection {
    static let imageFields: Set<String> = ["image", "image[]", "files[]", "files", "images[]"]

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "edit", body: .stream, use: edit)
        routes.on(.POST, "mask", "auto", body: .stream, use: autoMask)
    }

    @Sendable func edit(req: Request) async throws -> Response {
        let (job, created, _) = try await enqueue(req: req)
        return try await JobResponder(req: req).respond(job: job, created: created)
    }

    /// Reads and checks the multipart upload and enqueues an edit job; returns the upload's other fields too.
    /// `checkFields` sees the upload before anything else is decided (the compatible route's own fields).
    func enqueue(
        req: Request, checkFields: (MultipartUpload) throws -> Void = { _ in }
    ) async throws -> (job: JobRecord, created: Bool, upload: MultipartUpload) {
        let config = req.atelier.config
        try await JobAdmission(req: req).checkKillSwitch()
        let upload = try await MultipartUpload.read(req, maxFileBytes: config.maxFileBytes, maxTotalBytes: config.maxUploadBytes)
        try checkFields(upload)
        let input = try EditFormFields(upload: upload).imageRequestInput()
        let params: ImageParameters
        let validator = try await req.atelier.validator(req.db)
        do { params = try validator.validate(input, for: .edits) } catch { throw error.apiError }
        // Rate limits and the kill switch before any image is decoded.
        let budget = try await JobAdmission(req: req).admit(params)
        let model = req.atelier.registry.model(params.model)!
        let reader = EditInputReader(req: req, upload: upload)
        let images = try await reader.images(max: model.maxInputImages)
        var inputs = images.map(\.jobInput)
        let base = images[0].info
        let maskColor = try EditFormFields(upload: upload).maskEditColor()
        let mask = try await reader.mask(base: base, editColor: maskColor)
        let markup = try await reader.markup(base: base)
        if mask != nil && markup != nil {
            throw APIError.invalid("markup", "markup cannot be combined with mask; send one of them.")
        }
        if mask != nil && params.outputFormat == "gif" {
            throw APIError.invalid("mask", "GIF output cannot use a mask; leave the mask out or choose another output_format.")
        }
        if markup != nil && !model.supportsMarkup {
            throw APIError.invalid("markup", "\(model.id) does not accept markup; models that do: "
                + req.atelier.registry.models.filter(\.supportsMarkup).map(\.id).joined(separator: ", ") + ".")
        }
        if let mask { inputs.append(JobInput(role: .mask, index: 0, source: .upload(mask))) }
        if let markup { inputs.append(markup) }
        let options = try EditFormFields(upload: upload).editOptions(
            hasMask: mask != nil, maskColor: maskColor, canComposite: params.outputFormat != "svg")
        let inputTokens = images.reduce(0) { $0 + Self.estimatedImageTokens($1.info) }
        let (job, created) = try await JobEnqueuer(app: req.application).enqueue(
            kind: .edit, params: params, options: options, inputs: inputs, owner: req.owner,
            idempotencyKey: req.idempotencyKey, estimatedInputTokens: inputTokens, budget: budget)
        return (job, created, upload)
    }

    @Sendable func autoMask(req: Request) async throws -> Response {
        let config = req.atelier.config
        try await JobAdmission(req: req).checkKillSwitch()
        let upload = try await MultipartUpload.read(req, maxFileBytes: config.maxFileBytes, maxTotalBytes: config.maxUploadBytes)
        guard let subject = upload.field("subject")?.trimmingCharacters(in: .whitespacesAndNewlines), !subject.isEmpty else {
            throw APIError.invalid("subject", "Describe what to select, e.g. \"the dog\".", code: "missing_field")
        }
        var input = try EditFormFields(upload: upload).imageRequestInput()
        input.prompt = AutoMaskHandler.prompt(subject: subject)
        input.n = 1
        input.partialImages = nil
        input.outputFormat = "png"
        let params: ImageParameters
        let validator = try await req.atelier.validator(req.db)
        do { params = try validator.validate(input, for: .edits) } catch { throw error.apiError }
        let budget = try await JobAdmission(req: req).admit(params)
        let images = try await EditInputReader(req: req, upload: upload).images(max: 1)
        let (job, created) = try await JobEnqueuer(app: req.application).enqueue(
            kind: .autoMask, params: params, options: EditOptions(subject: subject),
            inputs: [images[0].jobInput], owner: req.owner,
            idempotencyKey: req.idempotencyKey, estimatedInputTokens: Self.estimatedImageTokens(images[0].info),
            budget: budget)
        return try await JobResponder(req: req).respond(job: job, created: created)
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
