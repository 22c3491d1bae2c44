import AsyncHTTPClient
import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import ObjectStorage
import Testing
import Vapor

/// The whole job path with blobs in an S3-compatible bucket (`S3_BUCKET`): outputs stored there, served back,
/// thumbnailed, re-used as edit inputs (sent from memory, as there is no local file), and deleted with the job.
@Suite struct S3StorageTests {
    static var s3URL: String? { ProcessInfo.processInfo.environment["TEST_S3_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    @Test(.enabled(if: s3URL != nil, "needs TEST_S3_URL (the test command starts moto's S3 server)"))
    func jobsStoreServeReuseAndDeleteImagesInABucket() async throws {
        let env = [
            "S3_BUCKET": "atelier-server-test", "S3_ENDPOINT": try #require(Self.s3URL), "S3_ACCESS_KEY_ID": "test",
            "S3_SECRET_ACCESS_KEY": "test", "S3_PREFIX": "run-\(UUID().uuidString.prefix(8).lowercased())",
        ]
        var config = try AtelierConfig.testing()
        var problems: [String] = []
        config.s3 = AtelierConfig.s3(env, problems: &problems)
        #expect(problems.isEmpty)
        let bucket = S3BlobStore(configuration: try #require(config.s3), client: HTTPClient.shared)
        try await bucket.createBucketIfNeeded()
        let provider = FakeImageProvider()
        try await withTestApp(config, overrides: .init(provider: provider)) { app in
            #expect(app.atelier.blobs is S3BlobStore)
            let id = try await app.enqueueGenerate(["prompt": "stored in a bucket"])
            try await app.drainJobs(app.makeJobWorker())
            let job = try await app.job(id)
            #expect(job["status"] as? String == "succeeded", "\(job)")
            let image = try #require((job["images"] as? [[String: Any]])?.first)
            let imageID = try #require(image["id"] as? String)
            let record = try #require(try await ImageRecord.find(try #require(UUID(uuidString: imageID)), on: app.db))
            let key = try #require(BlobKey(record.blobKey))
            #expect(try await bucket.exists(key), "the output is an object in the bucket")

            let served = try await app.send(.GET, "v1/images/\(imageID)")
            #expect(served.status == .ok)
            #expect(Data(served.body.readableBytesView) == (try await bucket.get(key)))
            let thumbnail = try await app.send(.GET, "v1/images/\(imageID)/thumbnail")
            #expect(thumbnail.status == .ok)
            #expect(try ImageProcessing.probe(Data(thumbnail.body.readableBytesView)).format == .webp)

            var edit = MultipartBody()
            edit.field("prompt", "now at night")
            edit.field("image_id", imageID)
            let edited = try await app.send(.POST, "v1/edit", headers: edit.headers, body: edit.buffer)
            #expect(edited.status == .accepted)
            let editID = try #require(edited.json["id"] as? String)
            try await app.drainJobs(app.makeJobWorker())
            let sent = try #require(await provider.requests.last?.images.first)
            guard case .data(let bytes) = sent.bytes else { Issue.record("S3 inputs are sent from memory"); return }
            #expect(bytes == (try await bucket.get(key)))

            #expect(try await app.send(.DELETE, "v1/jobs/\(id)").status == .noContent)
            #expect(try await bucket.exists(key), "still the edit's input")
            #expect(try await app.send(.DELETE, "v1/jobs/\(editID)").status == .noContent)
            #expect(try await bucket.exists(key) == false, "deleting the last job using it deletes the object")
        }
    }

    @Test func s3SettingsAreCheckedAndTheSecretIsNeverShown() {
        var problems: [String] = []
        let configured = AtelierConfig.s3(["S3_BUCKET": "b", "S3_SECRET_ACCESS_KEY": "very-secret"], problems: &problems)
        #expect(configured?.endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(problems == ["S3_BUCKET=b needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"])
        problems = []
        _ = AtelierConfig.s3(
            ["S3_BUCKET": "b", "S3_ENDPOINT": "minio:9000", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "very-secret"],
            problems: &problems)
        #expect(problems.count == 1 && problems[0].hasPrefix("S3_ENDPOINT=minio:9000 must be an http(s) URL"))
        #expect(!problems.joined().contains("very-secret"))
        #expect(AtelierConfig.s3([:], problems: &problems) == nil, "no S3_BUCKET: local disk")
    }
}
