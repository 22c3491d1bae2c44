import CVipsShim

/// The encoded formats Atelier accepts and produces. Always detected from magic bytes, never from names.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case png, jpeg, webp

    public var mimeType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .webp: "image/webp"
        }
    }

    var shimFormat: AtelierFormat {
        switch self {
        case .png: ATELIER_FORMAT_PNG
        case .jpeg: ATELIER_FORMAT_JPEG
        case .webp: ATELIER_FORMAT_WEBP
        }
    }
}
