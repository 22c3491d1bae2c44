import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Foundation
import ImageProcessing
import Testing
import Vapor
import VaporTesting

/// User B tries everything on user A's jobs, images, events and keys: every attempt answers 404 and nothing
/// of A's changes or leaks. Admins see everything.
@Suite struct OwnershipMatrixTests {
    @Test func anotherUsersJobsImagesEventsAndKeysAnswer404() async throws {
        try await withAccountsApp { app in
            // setup
            let a = try await app.makeAccount("a@example.com")
            let b = try await app.makeAccount("b@example.com")
            let job = try await app.finishedJob(as: a)
            let jobID = try #require(job["id"] as? String)
            let imageID = try #require(job[path: "images.0.id"] as? String)
            let keys = try await app.send(.GET, "v1/me/keys", headers: a.browser).json
            let keyID = try #require(keys[path: "data.0.id"] as? String)
            let zipByJob = try JSONSerialization.data(withJSONObject: ["job_ids": [jobID]])
            let zipByImage = try JSONSerialization.data(withJSONObject: ["image_ids": [imageID]])
            let favorite = try JSONSerialization.data(withJSONObject: ["favorite": true])
            let confirmed = try JSONSerialization.data(withJSONObject: ["password": TestAccount.password])
            let attempts: [(HTTPMethod, String, Data?)] = [
                (.GET, "v1/jobs/\(jobID)", nil),
                (.POST, "v1/jobs/\(jobID)/cancel", nil),
                (.POST, "v1/jobs/\(jobID)/retry", nil),
                (.PUT, "v1/jobs/\(jobID)/favorite", favorite),
                (.GET, "v1/jobs/\(jobID)/events", nil),
                (.DELETE, "v1/jobs/\(jobID)", nil),
                (.GET, "v1/images/\(imageID)", nil),
                (.GET, "v1/images/\(imageID)/thumbnail", nil),
                (.POST, "v1/images/zip", zipByJob),
                (.POST, "v1/images/zip", zipByImage),
                (.DELETE, "v1/me/keys/\(keyID)", confirmed),
                (.GET, "v1/admin/users", nil),
                (.GET, "v1/admin/spend", nil),
            ]
            var leaks: [String] = []
            // MUT: with B's API key and with B's browser session
            for credentials in [b.bearer, b.browser] {
                for (method, path, body) in attempts {
                    var headers = credentials
                    if body != nil { headers.contentType = .json }
                    let response = try await app.send(method, path, headers: headers, body: body.map { ByteBuffer(data: $0) })
                    // An API key may not manage keys at all (403 session_required), whoever's they are.
                    let sessionOnly = response.status == .forbidden && response.errorCode == "session_required"
                    if response.status != .notFound && !sessionOnly { leaks.append("\(method) \(path) → \(response.status.code)") }
                    if String(buffer: response.body).contains(jobID) || String(buffer: response.body).contains(imageID) {
                        leaks.append("\(method) \(path) body names A's ids")
                    }
                }
            }
            // re-use of A's image as image_id and mask_id in B's edits
            let png = try ImageProcessing.synthesize(width: 64, height: 64, format: .png, seed: 7)
            var byImageID = MultipartBody()
            byImageID.field("prompt", "steal")
            byImageID.field("image_id", imageID)
            var byMaskID = MultipartBody()
            byMaskID.field("prompt", "steal")
            byMaskID.file("image", filename: "mine.png", png)
            byMaskID.field("mask_id", imageID)
            for (form, field) in [(byImageID, "image_id"), (byMaskID, "mask_id")] {
                var headers = b.bearer
                for (name, value) in form.headers { headers.replaceOrAdd(name: name, value: value) }
                let response = try await app.send(.POST, "v1/edit", headers: headers, body: form.buffer)
                if response.status != .notFound || response.errorField != field { leaks.append("edit \(field) → \(response.status.code)") }
            }
            // lists and exports of B hold nothing of A
            for path in ["v1/jobs", "v1/jobs?all=true", "v1/me/keys", "v1/me"] {
                let body = String(buffer: try await app.send(.GET, path, headers: b.bearer).body)
                if body.contains(jobID) || body.contains(keyID) || body.contains(a.owner) { leaks.append("GET \(path) lists A's records") }
            }
            let export = try await app.postJSON("v1/me/export", ["password": TestAccount.password], headers: b.browser)
            #expect(export.status == .ok)
            if String(buffer: export.body).contains(jobID) { leaks.append("B's export holds A's job") }
            // validate
            #expect(leaks.isEmpty, "\(leaks)")
            let still = try await app.send(.GET, "v1/jobs/\(jobID)", headers: a.bearer)
            #expect(still.status == .ok)
            #expect(still.json["favorite"] as? Bool == false)
            #expect(try await app.send(.GET, "v1/images/\(imageID)", headers: a.bearer).status == .ok)
            let aKeys = try await app.send(.GET, "v1/me/keys", headers: a.browser).json
            #expect(aKeys[path: "data.0.revoked_at"] == nil)
        }
    }

    @Test func adminsSeeEveryonesJobsWithAllTrue() async throws {
        try await withAccountsApp { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let a = try await app.makeAccount("a@example.com")
            let jobID = try #require(try await app.finishedJob(as: a)["id"] as? String)
            #expect(try await app.send(.GET, "v1/jobs/\(jobID)", headers: admin.bearer).status == .ok)
            let own = try await app.send(.GET, "v1/jobs", headers: admin.bearer).json["data"] as? [Any]
            #expect(own?.isEmpty == true)
            let all = try await app.send(.GET, "v1/jobs?all=true", headers: admin.bearer).json["data"] as? [[String: Any]]
            #expect(all?.compactMap { $0["id"] as? String } == [jobID])
        }
    }

    @Test func withoutCredentialsEverythingAnswers401() async throws {
        try await withAccountsApp { app in
            let response = try await app.postJSON("v1/generate", ["prompt": "x"])
            #expect(response.status == .unauthorized)
            #expect(response.errorCode == "unauthenticated")
            let badKey = try await app.send(.GET, "v1/jobs", headers: ["Authorization": "Bearer atl_nope"])
            #expect(badKey.status == .unauthorized)
            #expect(badKey.errorCode == "invalid_api_key")
            #expect(try await app.send(.GET, "v1/status").status == .ok)
        }
    }
}
