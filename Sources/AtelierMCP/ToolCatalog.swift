import AtelierCore
import MCP

/// The tools Atelier offers over MCP, with their input schemas.
extension ToolSchemas {
    static let maxWaitSeconds = 600

    public var tools: [Tool] {
        let results = [
            "full_image": flag("Return the full-size image instead of a thumbnail.", default: false),
            "wait_seconds": integer(
                0, Self.maxWaitSeconds, "How long to wait for the job before returning it as it stands (then use wait_for_job).",
                default: 120),
        ]
        let generate = imageOptions(for: .generations)
        let edit = imageOptions(for: .edits).merging(results) { $1 }.merging([
            "image_ids": .object([
                "type": "array", "items": text("The id of a stored image (from a job's images or atelier://images/{id})."),
                "maxItems": .int(models.map(\.maxInputImages).max() ?? 1),
            ]),
            "images": .object([
                "type": "array", "items": text("A PNG, JPEG or WebP image as base64 (a data: URL also works)."),
                "maxItems": .int(models.map(\.maxInputImages).max() ?? 1),
            ]),
            "mask_id": text("The id of a stored mask image (e.g. create_mask's result)."),
            "mask": text("A mask as base64 PNG: transparent (or black) where the image should change."),
            "preserve_unmasked": flag("Keep pixels outside the mask exactly (default true when a mask is given).", default: true),
            "feather": integer(0, 256, "Seam feather radius in pixels.", default: 8),
        ]) { $1 }
        return [
            Tool(
                name: "generate_image",
                description: "Makes images from a prompt. Returns the job id, its cost and the images (thumbnails unless full_image).",
                inputSchema: objectSchema(generate.merging(results) { $1 }, required: ["prompt"]),
                annotations: .init(readOnlyHint: false, openWorldHint: true)),
            Tool(
                name: "edit_image",
                description:
                    "Edits stored images (image_ids) or images given as base64 (images), optionally inside a mask. Returns the job id, cost and images.",
                inputSchema: objectSchema(edit, required: ["prompt"]), annotations: .init(readOnlyHint: false, openWorldHint: true)),
            Tool(
                name: "create_mask",
                description: "Makes a mask selecting a subject in an image (by image_id or base64 image), for edit_image's mask_id.",
                inputSchema: objectSchema(
                    [
                        "image_id": text("The id of a stored image."), "image": text("The image as base64."),
                        "subject": text("What to select, e.g. \"the dog\"."),
                    ].merging(results) { $1 }, required: ["subject"]), annotations: .init(readOnlyHint: false, openWorldHint: true)),
            Tool(
                name: "get_job", description: "A job's status, cost and (when finished) its images.",
                inputSchema: objectSchema(["job_id": text("The job id."), "full_image": results["full_image"]!], required: ["job_id"]),
                annotations: .init(readOnlyHint: true)),
            Tool(
                name: "wait_for_job",
                description: "Waits for a job to finish (progress notifications while it runs), then returns it like get_job.",
                inputSchema: objectSchema(
                    [
                        "job_id": text("The job id."), "full_image": results["full_image"]!,
                        "timeout_seconds": integer(1, Self.maxWaitSeconds, "Give up waiting after this long.", default: 120),
                    ], required: ["job_id"]), annotations: .init(readOnlyHint: true)),
            Tool(
                name: "list_history", description: "Your jobs, newest first, with search and filters.",
                inputSchema: objectSchema([
                    "q": text("Words the prompt must contain."), "model": choice(models.map(\.id), "Only this model."),
                    "status": choice(JobStatus.allCases.map(\.rawValue), "Only jobs in this state."),
                    "kind": choice(JobKind.allCases.map(\.rawValue), "Only this kind of job."),
                    "favorite": .object(["type": "boolean", "description": "Only favourites (true) or only others (false)."]),
                    "since": text("Created at or after (ISO 8601).", format: "date-time"),
                    "until": text("Created before (ISO 8601).", format: "date-time"),
                    "limit": integer(1, 100, "Page size.", default: 20), "cursor": text("next_cursor of the previous page."),
                ]), annotations: .init(readOnlyHint: true)),
            Tool(
                name: "estimate_cost", description: "What a generate_image call would cost (USD) and its token counts, without running it.",
                inputSchema: objectSchema(generate, required: ["prompt"]), annotations: .init(readOnlyHint: true)),
            Tool(
                name: "list_models", description: "The image models this server offers, with sizes, qualities, formats, limits and prices.",
                inputSchema: objectSchema([:]), annotations: .init(readOnlyHint: true)),
        ]
    }

    /// The properties a tool accepts (to name an unknown argument precisely).
    func properties(of tool: String) -> Set<String>? {
        guard let schema = tools.first(where: { $0.name == tool })?.inputSchema.objectValue,
            let properties = schema["properties"]?.objectValue
        else { return nil }
        return Set(properties.keys)
    }
}
