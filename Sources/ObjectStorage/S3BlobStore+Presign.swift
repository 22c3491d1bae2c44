import AtelierCore
import Foundation

extension S3BlobStore {
    /// What S3 should answer with instead of the object's stored headers (signed into the URL, so not changeable).
    public struct ResponseOverrides: Sendable {
        public var contentType: String?
        public var contentDisposition: String?
        public var cacheControl: String?

        public init(contentType: String? = nil, contentDisposition: String? = nil, cacheControl: String? = nil) {
            self.contentType = contentType
            self.contentDisposition = contentDisposition
            self.cacheControl = cacheControl
        }

        var query: [(String, String)] {
            [
                ("response-content-type", contentType), ("response-content-disposition", contentDisposition),
                ("response-cache-control", cacheControl),
            ].compactMap { name, value in value.map { (name, $0) } }
        }
    }

    /// A URL that GETs the object at `key` without credentials until `signedAt + expiresSeconds`
    /// (path-style, on the configured endpoint); nil when the endpoint is not a URL.
    public func presignedURL(
        for key: BlobKey, expiresSeconds: Int, signedAt: Date, overrides: ResponseOverrides = .init()
    ) -> String? {
        guard let host else { return nil }
        let path = objectPath(key)
        let query = signer.presignedQuery(
            host: host, path: path, query: overrides.query, expiresSeconds: expiresSeconds, date: signedAt)
        return configuration.endpoint + SigV4Signer.canonicalPath(path) + "?" + query
    }
}
