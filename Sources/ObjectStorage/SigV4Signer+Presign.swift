import Foundation

/// AWS Signature Version 4 in the query string (a presigned URL): the credential, date, lifetime and signature travel
/// as `X-Amz-*` parameters, only `host` is signed and the payload is `UNSIGNED-PAYLOAD`, so anyone holding the URL may
/// GET the object until it expires, and nothing else.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
extension SigV4Signer {
    /// The longest lifetime S3 accepts for a Signature Version 4 presigned URL (7 days).
    public static let maxPresignSeconds = 604_800

    /// The query string of a presigned request for `path` on `host` (already encoded, signature last), valid for
    /// `expiresSeconds` (1 s … 7 days) from `date`. `query` adds signed parameters such as `response-content-type`.
    public func presignedQuery(
        method: String = "GET", host: String, path: String, query: [(String, String)] = [], expiresSeconds: Int, date: Date
    ) -> String {
        let amzDate = Self.timestamp(date)
        let parameters =
            query + [
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                ("X-Amz-Credential", "\(accessKeyID)/\(credentialScope(day: String(amzDate.prefix(8))))"),
                ("X-Amz-Date", amzDate),
                ("X-Amz-Expires", String(min(max(expiresSeconds, 1), Self.maxPresignSeconds))),
                ("X-Amz-SignedHeaders", "host"),
            ]
        let canonicalQuery = Self.canonicalQuery(parameters)
        let canonicalRequest = [
            method, Self.canonicalPath(path), canonicalQuery, "host:\(Self.trim(host))\n", "host", "UNSIGNED-PAYLOAD",
        ].joined(separator: "\n")
        return canonicalQuery + "&X-Amz-Signature=" + signature(canonicalRequest: canonicalRequest, amzDate: amzDate)
    }
}
