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
        #expect(headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func pathSegmentsAreEncodedOnceAndSlashesKept() {
        #expect(SigV4Signer.canonicalPath("/bucket/a b/c+d/ü.png") == "/bucket/a%20b/c%2Bd/%C3%BC.png")
        #expect(SigV4Signer.canonicalPath("/bucket/jobs/x_y-z.~1/out-0.png") == "/bucket/jobs/x_y-z.~1/out-0.png")
    }
}
