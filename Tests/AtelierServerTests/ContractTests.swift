import AtelierCore
import AtelierServer
import AtelierTesting
import Foundation
import Testing
import Vapor
import VaporTesting

/// The published contract: the OpenAPI document, the studio's files, offline mode.
@Suite struct ContractTests {
    @Test func openAPIDocumentListsExactlyTheServedRoutes() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let response = try await app.send(.GET, "openapi.json")
            #expect(response.status == .ok)
            let doc = response.json
            #expect(doc["openapi"] as? String == "3.1.0")
            var documented: Set<String> = []
            for (path, operations) in doc["paths"] as? [String: [String: Any]] ?? [:] {
                for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
            }
            let served = Set(
                app.routes.all.compactMap { route -> String? in
                    let parts = route.path.map { component -> String in
                        if case .parameter(let name) = component { return "{\(name)}" }
                        return component.description
                    }
                    // /mcp is MCP's JSON-RPC endpoint (docs/AGENTS.md), not an action an importer should offer.
                    guard parts.first != "mcp" else { return nil }
                    return "\(route.method.rawValue) /" + parts.joined(separator: "/")
                })
            #expect(served.subtracting(documented).isEmpty, "undocumented: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
        }
    }

    @Test func openAPIDocumentNamesItsAbsoluteServerAndTheBearerScheme() async throws {
        // Login on: with login off only loopback Host values are answered at all (LocalModeTests).
        try await withAccountsApp { app in
            let direct = try await app.send(.GET, "openapi.json", headers: ["Host": "atelier.example:8080"]).json
            #expect(direct[path: "servers.0.url"] as? String == "http://atelier.example:8080")
            let proxied = try await app.send(
                .GET, "openapi.json",
                headers: [
                    "Host": "10.0.0.5:8080", "X-Forwarded-Host": "images.example.org", "X-Forwarded-Proto": "https",
                ]
            ).json
            #expect(proxied[path: "servers.0.url"] as? String == "https://images.example.org")
            let hostile = try await app.send(.GET, "openapi.json", headers: ["Host": "evil\"/x"]).json
            #expect(hostile[path: "servers.0.url"] as? String == "/")
            #expect(direct[path: "components.securitySchemes.bearerAuth.scheme"] as? String == "bearer")
            #expect((direct["security"] as? [[String: Any]])?.first?.keys.first == "bearerAuth")
            #expect((direct[path: "paths./v1/status.get.security"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func theStudioIsServedAtTheRoot() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let page = try await app.send(.GET, "/")
            #expect(page.status == .ok)
            #expect(page.headers.contentType?.subType == "html")
            #expect(String(buffer: page.body).contains("<script type=\"module\""))
        }
    }

    @Test func withoutAKeyTheServerSaysItIsAnOfflineDemoAndStillMakesRealImages() async throws {
        // setup: no OpenAI configuration and no provider override → the offline provider
        try await withTestApp(try .testing(openAI: nil)) { app in
            let status = try await app.send(.GET, "v1/status").json
            #expect(status["offline"] as? Bool == true)
            #expect(status["mode"] as? String == "offline")
            // MUT
            let created = try await app.postJSON(
                "v1/generate",
                [
                    "prompt": "offline", "model": "gpt-image-2", "size": "1536x1024", "output_format": "webp", "partial_images": 1,
                ])
            let id = try #require(created.json["id"] as? String)
            try await app.drainJobs(app.makeJobWorker())
            // validate
            let job = try await app.send(.GET, "v1/jobs/\(id)").json
            #expect(job["status"] as? String == "succeeded")
            #expect(job["offline"] as? Bool == true)
            #expect(job[path: "images.0.width"] as? Int == 1536)
            #expect(job[path: "images.0.height"] as? Int == 1024)
            #expect(job[path: "images.0.format"] as? String == "webp")
            #expect((job["partials"] as? [Any])?.count == 1)
        }
    }

    @Test func errorsAlwaysCarryCodeMessageAndField() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let notFound = try await app.send(.GET, "v1/jobs/\(UUID().uuidString)")
            #expect(notFound.status == .notFound)
            let error = try #require(notFound.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "not_found")
            #expect(error.keys.contains("field"))
            var headers = HTTPHeaders()
            headers.contentType = .json
            let broken = try await app.send(.POST, "v1/generate", headers: headers, body: ByteBuffer(string: "{nope"))
            #expect(broken.status == .badRequest)
            #expect(broken.errorCode == "invalid_json")
        }
    }

    @Test func eachModelPayloadCarriesTheRegistryFieldsAndTheQualityAnOmittedQualityRunsAt() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let payload = try await app.send(.GET, "v1/models").json
            let served = try #require(payload["data"] as? [[String: Any]])
            #expect(!served.isEmpty)
            for entry in served {
                let id = try #require(entry["id"] as? String)
                let model = try #require(app.atelier.liveRegistry.current.model(id))
                let registryFields = try #require(
                    try JSONSerialization.jsonObject(with: JSONEncoder().encode(model)) as? [String: Any])
                let missing = Set(registryFields.keys).subtracting(entry.keys)
                #expect(missing.isEmpty, "\(id) lacks \(missing.sorted())")
                let defaultQuality = try #require(entry["default_quality"] as? String, "\(id)")
                #expect(defaultQuality == model.defaultQuality)
                #expect((entry["qualities"] as? [String])?.contains(defaultQuality) == true)
                let created = try await app.postJSON("v1/generate", ["prompt": "q", "model": id, "size": "1024x1024"])
                #expect(created.status == .accepted, "\(id): \(created.json)")
                #expect(created.json[path: "params.quality"] as? String == defaultQuality, "\(id)")
            }
        }
    }
}
