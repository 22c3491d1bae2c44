/// Failures of `ImageProcessing`. `message` is safe to show to the person who uploaded the file.
public enum ImageProcessingError: Error, Sendable, Equatable {
    /// Not PNG, JPEG or WebP (judged by magic bytes).
    case unsupportedFormat
    /// The header declares more pixels than allowed; nothing was decoded.
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// libvips could not read or process the data; the associated text is libvips' reason, trimmed.
    case corrupt(String)
    /// A mask had to be PNG. Reserved for callers that require PNG masks; `prepareMask` accepts any supported format.
    case maskNotPNG
    case maskAspectMismatch(maskWidth: Int, maskHeight: Int, baseWidth: Int, baseHeight: Int)
    /// Invalid requested dimensions (e.g. zero or negative width/height).
    case sizeMismatch(String)

    public var message: String {
        switch self {
        case .unsupportedFormat:
            "The file is not a PNG, JPEG or WebP image. Convert it to one of those formats and upload it again."
        case let .tooManyPixels(width, height, limit):
            "The image is \(width)×\(height) pixels, more than the limit of \(limit) pixels. Scale it down and try again."
        case let .corrupt(reason):
            "The image could not be read" + (reason.isEmpty ? "" : " (\(reason))")
                + ". It may be damaged or truncated; export it again and retry."
        case .maskNotPNG:
            "The mask must be a PNG image. Export the mask as PNG and try again."
        case let .maskAspectMismatch(maskWidth, maskHeight, baseWidth, baseHeight):
            "The mask is \(maskWidth)×\(maskHeight) but the image is \(baseWidth)×\(baseHeight); their shapes differ. "
                + "Use a mask with the same aspect ratio as the image."
        case let .sizeMismatch(reason):
            "The image sizes do not fit together: \(reason)."
        }
    }
}
