import AsyncHTTPClient
import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import ObjectStorage
import Testing
import Vapor

/// `S3_PRESIGN=true`: images and thumbnails are answered with a redirect to a presigned URL of their object, which a
/// plain HTTP client (no credentials) follows to the bytes; the studio's policy allows the bucket as an image source.
@Suite struct S3PresignTests {
    @Test(.enabled(if: S3StorageTests.s3URL != nil, "needs TEST_S3_URL (the test command starts moto's S3 server)"))
    func imagesRedirectToPresignedURLsThatServeTheirBytes() async throws {
        let endpoint = try #require(S3StorageTests.s3URL)
        let env = [
            "S3_BUCKET": "atelier-presign-test", "S3_ENDPOINT": endpoint, "S3_ACCESS_KEY_ID": "test",
            "S3_SECRET_ACCESS_KEY": "test", "S3_PREFIX": "run-\(UUID().uuidString.prefix(8).lowercased())", "S3_PRESIGN": "true",
        ]
        var config = try AtelierConfig.testing()
        var problems: [String] = []
        config.s3 = AtelierConfig.s3(env, problems: &problems)
        #expect(problems.isEmpty && config.s3?.presignSeconds == 300)
        let bucket = S3BlobStore(configuration: try #require(config.s3), client: HTTPClient.shared)
        try await bucket.createBucketIfNeeded()
        // A clock that stands still: URLs are signed per window of a fifth of their lifetime (60 s), and a loaded run
        // crossed a window between the two requests that must get the same URL.
        try await withTestApp(config, overrides: .init(provider: FakeImageProvider(), clock: ManualClock(1_794_744_000).clock)) { app in
            let id = try await app.enqueueGenerate(["prompt": "served by the bucket"])
            try await app.drainJobs(app.makeJobWorker())
            let imageID = try #require(((try await app.job(id))["images"] as? [[String: Any]])?.first?["id"] as? String)
            let record = try #require(try await ImageRecord.find(try #require(UUID(uuidString: imageID)), on: app.db))
            let stored = try await bucket.get(try #require(BlobKey(record.blobKey)))

            let redirect = try await app.send(.GET, "v1/images/\(imageID)")
            #expect(redirect.status == .temporaryRedirect)
            let location = try #require(redirect.headers.first(name: .location))
            #expect(location.hasPrefix("\(endpoint)/atelier-presign-test/\(env["S3_PREFIX"]!)/"))
            #expect(location.contains("X-Amz-Expires=300&") && location.contains("response-content-disposition=inline"))
            #expect(redirect.headers.first(name: .cacheControl)?.hasPrefix("private, max-age=") == true)
            #expect(redirect.body.readableBytes == 0, "no image bytes pass through Atelier")
            #expect(redirect.headers.first(name: "Content-Security-Policy")?.contains("img-src 'self' data: blob: \(endpoint)") == true)
            let again = try await app.send(.GET, "v1/images/\(imageID)")
            #expect(again.headers.first(name: .location) == location, "the same URL within its window, so caches work")

            let fetched = try await HTTPClient.shared.execute(HTTPClientRequest(url: location), timeout: .seconds(30))
            #expect(fetched.status == .ok)
            #expect(Data((try await fetched.body.collect(upTo: 1 << 26)).readableBytesView) == stored)

            let scripted = try await app.send(.GET, "v1/images/\(imageID)", headers: ["Sec-Fetch-Dest": "empty"])
            #expect(scripted.status == .ok && Data(scripted.body.readableBytesView) == stored, "a studio fetch is served here")

            let download = try await app.send(.GET, "v1/images/\(imageID)?download=1")
            #expect(download.headers.first(name: .location)?.contains("response-content-disposition=attachment") == true)

            let thumbnail = try await app.send(.GET, "v1/images/\(imageID)/thumbnail")
            #expect(thumbnail.status == .temporaryRedirect)
            let thumbnailURL = try #require(thumbnail.headers.first(name: .location))
            let thumbnailBytes = try await HTTPClient.shared.execute(HTTPClientRequest(url: thumbnailURL), timeout: .seconds(30))
            #expect(
                try ImageProcessing.probe(Data((try await thumbnailBytes.body.collect(upTo: 1 << 24)).readableBytesView)).format == .webp)

            // Access is checked before anything is signed: an image that is not the caller's is not found.
            let missing = try await app.send(.GET, "v1/images/\(UUID().uuidString.lowercased())")
            #expect(missing.status == .notFound && missing.headers.first(name: .location) == nil)
        }
    }

    @Test func presignSettingsAreChecked() {
        var problems: [String] = []
        let base = ["S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s"]
        #expect(AtelierConfig.s3(base, problems: &problems)?.presignSeconds == nil, "off unless asked for")
        #expect(
            AtelierConfig.s3(base.merging(["S3_PRESIGN": "true", "S3_PRESIGN_SECONDS": "60"]) { $1 }, problems: &problems)?
                .presignSeconds == 60)
        #expect(problems.isEmpty)
        _ = AtelierConfig.s3(base.merging(["S3_PRESIGN": "true", "S3_PRESIGN_SECONDS": "604801"]) { $1 }, problems: &problems)
        _ = AtelierConfig.s3(base.merging(["S3_PRESIGN": "sometimes"]) { $1 }, problems: &problems)
        _ = AtelierConfig.s3(["S3_PRESIGN": "true"], problems: &problems)
        #expect(
            problems == [
                "S3_PRESIGN_SECONDS=604801 must be a whole number of seconds from 1 to 604800",
                "S3_PRESIGN=sometimes must be true or false",
                "S3_PRESIGN needs S3_BUCKET (presigned URLs are for images in a bucket)",
            ])
    }
}
