import AsyncHTTPClient
import AtelierCore
import Foundation
@testable import ObjectStorage
import Testing

@Suite struct SigV4SignerTests {
    /// The GET Object example of AWS's "Signature Calculations for the Authorization Header" (S3 API reference).
    @Test func matchesAWSsPublishedGetObjectExample() throws {
        let signer = SigV4Signer(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let date = try #require(ISO8601DateFormatter().date(from: "2013-05-24T00:00:00Z"))
        let headers = signer.sign(
            method: "GET", path: "/test.txt", headers: ["Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"],
            payloadHash: SigV4Signer.payloadHash(Data()), date: date)
        #expect(headers["x-amz-date"] == "20130524T000000Z")
        #expect(headers["x-amz-content-sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// The presigned-URL example of AWS's "Authenticating Requests: Using Query Parameters" (S3 API reference):
    /// GET examplebucket/test.txt, signed 2013-05-24T00:00:00Z, valid 86400 s.
    @Test func presignsAWSsPublishedQueryParameterExample() throws {
        let signer = SigV4Signer(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let date = try #require(ISO8601DateFormatter().date(from: "2013-05-24T00:00:00Z"))
        let query = signer.presignedQuery(host: "examplebucket.s3.amazonaws.com", path: "/test.txt", expiresSeconds: 86400, date: date)
        #expect(
            query == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// A bucket's presigned URL is path-style on its endpoint, with the prefix, and signs the response overrides
    /// (changing one changes the signature) and a lifetime S3 accepts.
    @Test func bucketURLsArePathStyleAndSignTheirOverrides() throws {
        let store = S3BlobStore(
            configuration: S3Configuration(
                endpoint: "http://127.0.0.1:9000/", bucket: "pics", region: "eu-west-1", accessKeyID: "k", secretAccessKey: "s",
                prefix: "site/"),
            client: .shared)
        let key = try #require(BlobKey("jobs/ab/out-0.png"))
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let inline = try #require(
            store.presignedURL(
                for: key, expiresSeconds: 300, signedAt: date, overrides: .init(contentType: "image/png", contentDisposition: "inline")))
        let attachment = try #require(
            store.presignedURL(
                for: key, expiresSeconds: 300, signedAt: date, overrides: .init(contentType: "image/png", contentDisposition: "attachment"))
        )
        #expect(inline.hasPrefix("http://127.0.0.1:9000/pics/site/jobs/ab/out-0.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&"))
        #expect(inline.contains("&X-Amz-Expires=300&") && inline.contains("X-Amz-Credential=k%2F20270115%2Feu-west-1%2Fs3%2Faws4_request"))
        #expect(inline.contains("&response-content-type=image%2Fpng&"))
        #expect(inline.split(separator: "&").last != attachment.split(separator: "&").last)
        let tooLong = try #require(store.presignedURL(for: key, expiresSeconds: 10_000_000, signedAt: date))
        #expect(tooLong.contains("&X-Amz-Expires=604800&"))
    }

    @Test func pathSegmentsAreEncodedOnceAndSlashesKept() {
        #expect(SigV4Signer.canonicalPath("/bucket/a b/c+d/ü.png") == "/bucket/a%20b/c%2Bd/%C3%BC.png")
        #expect(SigV4Signer.canonicalPath("/bucket/jobs/x_y-z.~1/out-0.png") == "/bucket/jobs/x_y-z.~1/out-0.png")
    }
}
