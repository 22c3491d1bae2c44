import Foundation

/// Image bytes to send: in memory, or a file read as the request goes out (edits send their stored inputs
/// straight from disk, so a 16-image edit does not hold its inputs in memory).
public enum ImageBytes: Sendable, Equatable {
    case data(Data)
    case file(URL, byteCount: Int)

    public var byteCount: Int {
        switch self {
        case .data(let data): data.count
        case .file(_, let count): count
        }
    }

    /// The first `count` bytes (to tell the format); empty if a file cannot be read.
    public func prefix(_ count: Int) -> Data {
        switch self {
        case .data(let data): return Data(data.prefix(count))
        case .file(let url, _):
            guard let handle = try? FileHandle(forReadingFrom: url) else { return Data() }
            defer { try? handle.close() }
            return (try? handle.read(upToCount: count)) ?? Data()
        }
    }

    /// All the bytes (tests and fakes; the real client streams files).
    public func load() throws -> Data {
        switch self {
        case .data(let data): data
        case .file(let url, _): try Data(contentsOf: url)
        }
    }
}

/// An image file sent upstream (an edit input, a mask or markup).
public struct ImageUpload: Sendable, Equatable {
    public var filename: String
    public var contentType: String
    public var bytes: ImageBytes

    public init(filename: String, contentType: String, bytes: ImageBytes) {
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
    }

    public init(filename: String, contentType: String, data: Data) {
        self.init(filename: filename, contentType: contentType, bytes: .data(data))
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
    /// The label of the upstream key to send this call with (`OPENAI_API_KEYS`); nil = the only or first key.
    public var upstreamKey: String? = nil
    /// Receives the upstream's successful answer as it arrives (providers that call no upstream ignore it).
    public var responseTap: ProviderResponseTap? = nil

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
    /// Seconds until the upstream's rate limit refills, when the answer said none is left (`x-ratelimit-remaining-*: 0`).
    public var rateLimitReset: Double? = nil
    /// The upstream's `created` / `created_at` (Unix seconds), when it said.
    public var created: Int? = nil

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

/// A provider that can list the upstream's models (`atelier models check`); the offline provider cannot.
public protocol UpstreamModelLister: Sendable {
    func listModels() async throws(ProviderError) -> [UpstreamModel]
}
