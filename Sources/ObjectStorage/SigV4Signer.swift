import AtelierCore
import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests (header form): what every S3-compatible server checks.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
public struct SigV4Signer: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var region: String
    public var service = "s3"

    public init(accessKeyID: String, secretAccessKey: String, region: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
    }

    /// The hex SHA-256 of a body, for `x-amz-content-sha256`.
    public static func payloadHash(_ body: Data) -> String { hex(SHA256.hash(data: body)) }

    /// Headers to send with the request: `x-amz-date`, `x-amz-content-sha256` and `Authorization`.
    /// `headers` are the other headers to sign (`host` is required).
    public func sign(
        method: String, path: String, query: [(String, String)] = [], headers: [String: String], payloadHash: String,
        date: Date
    ) -> [String: String] {
        let amzDate = Self.timestamp(date)
        let day = String(amzDate.prefix(8))
        var signed = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), Self.trim($0.value)) })
        signed["x-amz-date"] = amzDate
        signed["x-amz-content-sha256"] = payloadHash
        let names = signed.keys.sorted()
        let canonicalRequest = [
            method, Self.canonicalPath(path), Self.canonicalQuery(query),
            names.map { "\($0):\(signed[$0]!)\n" }.joined(), names.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
        let signature = self.signature(canonicalRequest: canonicalRequest, amzDate: amzDate)
        let scope = credentialScope(day: day)
        return [
            "x-amz-date": amzDate, "x-amz-content-sha256": payloadHash,
            "Authorization":
                "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope),SignedHeaders=\(names.joined(separator: ";")),Signature=\(signature)",
        ]
    }

    /// `DAY/REGION/SERVICE/aws4_request`.
    func credentialScope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    /// The hex signature of a canonical request made at `amzDate` (the string to sign, under the day's derived key).
    func signature(canonicalRequest: String, amzDate: String) -> String {
        let day = String(amzDate.prefix(8))
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, credentialScope(day: day), Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] { key = SymmetricKey(data: Self.hmac(part, key)) }
        return Self.hex(Self.hmac(stringToSign, key))
    }

    /// The canonical query string: names and values RFC 3986-encoded, sorted by name then value.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (encode($0.0), encode($0.1)) }.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func hmac(_ text: String, _ key: SymmetricKey) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.hexString
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    static func trim(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// RFC 3986 encoding of everything but unreserved characters.
    static func encode(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// Each path segment encoded once (S3 does not double-encode), slashes kept.
    static func canonicalPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }
}
