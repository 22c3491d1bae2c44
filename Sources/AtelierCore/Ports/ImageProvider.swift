import Foundation

/// An image file sent upstream (an edit input, a mask or markup).
public struct ImageUpload: Sendable, Equatable {
    public var filename: String
    public var contentType: String
    public var data: Data

    public init(filename: String, contentType: String, data: Data) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }
}

/// One call to the upstream: a generation, or an edit when `images` is non-empty.
public struct ProviderRequest: Sendable, Equatable {
    public var parameters: ImageParameters
    public var images: [ImageUpload]
    public var mask: ImageUpload?
    public var markup: ImageUpload?
    /// Stable hashed end-user id for abuse monitoring.
    public var safetyIdentifier: String?

    public init(
        parameters: ImageParameters, images: [ImageUpload] = [], mask: ImageUpload? = nil,
        markup: ImageUpload? = nil, safetyIdentifier: String? = nil
    ) {
        self.parameters = parameters
        self.images = images
        self.mask = mask
        self.markup = markup
        self.safetyIdentifier = safetyIdentifier
    }

    public var isEdit: Bool { !images.isEmpty }
    /// Streaming is used when partial previews are asked for.
    public var wantsStream: Bool { parameters.partialImages > 0 }
}

public struct ProviderPartialImage: Sendable {
    public var index: Int
    public var data: Data

    public init(index: Int, data: Data) {
        self.index = index
        self.data = data
    }
}

/// What the upstream returned: decoded image bytes plus what it says it did.
public struct ProviderResult: Sendable {
    public var images: [Data]
    public var usage: Usage?
    public var requestID: String?
    public var size: String?
    public var quality: String?
    public var background: String?
    public var outputFormat: String?

    public init(
        images: [Data], usage: Usage?, requestID: String?, size: String? = nil, quality: String? = nil,
        background: String? = nil, outputFormat: String? = nil
    ) {
        self.images = images
        self.usage = usage
        self.requestID = requestID
        self.size = size
        self.quality = quality
        self.background = background
        self.outputFormat = outputFormat
    }
}

/// Where images come from: OpenAI's Images API, the offline generator, or a test fake.
public protocol ImageProvider: Sendable {
    /// Runs one request. When `request.wantsStream`, partial previews are handed to `onPartial` as they arrive.
    /// Throws `ProviderError`; cancellation of the calling task aborts the upstream request.
    func run(
        _ request: ProviderRequest, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) -> ProviderResult
}
