import AtelierCore
import Foundation
import ObjectStorage
import Vapor

/// With `S3_PRESIGN=true`, an image the caller may read is answered with a redirect to a short-lived presigned URL of
/// its object, so the bytes go from the bucket to the client without passing through Atelier. SVG is never
/// redirected: it is served here, where `Content-Security-Policy: sandbox` keeps its script from running. Nor is a
/// script's `fetch` (`Sec-Fetch-Dest: empty`): following it to another origin would need CORS on the bucket and the
/// studio's `connect-src`, and its bytes may go to a canvas, which a cross-origin image would taint.
enum PresignedImageRedirect {
    /// A 307 to the bucket, or nil when images are served here (no bucket, presigning off, SVG).
    /// Call only after the caller's access to the image was checked.
    static func response(_ req: Request, key: String, contentType: String, filename: String?) -> Response? {
        guard let bucket = req.atelier.blobs as? S3BlobStore, let seconds = bucket.configuration.presignSeconds,
            contentType != "image/svg+xml", req.headers.first(name: "Sec-Fetch-Dest")?.lowercased() != "empty",
            let blobKey = BlobKey(key)
        else { return nil }
        // Signed at the start of a window of a fifth of the lifetime: the same image gets the same URL for that long,
        // so the browser's cache of the bucket's answer is reused, and the redirect may be cached as long.
        let window = max(1, seconds / 5)
        let now = req.atelier.clock.now()
        let signedAt = (now / Double(window)).rounded(.down) * Double(window)
        let disposition = req.query[String.self, at: "download"] == "1" ? "attachment" : "inline"
        let overrides = S3BlobStore.ResponseOverrides(
            contentType: contentType,
            contentDisposition: filename.map { "\(disposition); filename=\"\($0)\"" },
            cacheControl: "private, max-age=\(seconds), immutable")
        guard
            let url = bucket.presignedURL(
                for: blobKey, expiresSeconds: seconds, signedAt: Date(timeIntervalSince1970: signedAt), overrides: overrides)
        else { return nil }
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .location, value: url)
        let cacheable = max(0, Int(signedAt) + window - Int(now.rounded(.up)))
        headers.replaceOrAdd(name: .cacheControl, value: "private, max-age=\(cacheable)")
        return Response(status: .temporaryRedirect, headers: headers)
    }

    /// The origin presigned URLs point at, for the studio's `img-src`; nil when presigning is off.
    static func imageOrigin(_ config: AtelierConfig) -> String? {
        guard let s3 = config.s3, s3.presignSeconds != nil, let url = URLComponents(string: s3.endpoint),
            let scheme = url.scheme, let host = url.host
        else { return nil }
        return "\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")"
    }
}
