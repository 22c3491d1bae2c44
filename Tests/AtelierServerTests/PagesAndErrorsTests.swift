import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import ImageProcessing
import Logging
import Testing
import Vapor
import VaporTesting

/// Security headers on pages and API answers; `q` matched literally on both databases; the compatible edit route
/// refuses before creating a job; internal failure details reach only the log, users get a reference.
@Suite struct PagesAndErrorsTests {
    @Test func pagesAndAnswersCarryTheSecurityHeaders() async throws {
        try await withAccountsApp { app in
            for path in ["/", "/login.html", "/assets/app.js", "v1/jobs", "v1/status"] {
                let response = try await app.send(.GET, path)
                let csp = response.headers.first(name: "Content-Security-Policy") ?? ""
                #expect(
                    csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "\(path)"
                )
                #expect(response.headers.first(name: "X-Content-Type-Options") == "nosniff", "\(path)")
                #expect(response.headers.first(name: "Referrer-Policy") == "same-origin", "\(path)")
                #expect(response.headers.first(name: "Strict-Transport-Security") == nil, "no HSTS over plain HTTP")
            }
            let overTLS = try await app.send(.GET, "/", headers: ["X-Forwarded-Proto": "https"])
            #expect(overTLS.headers.first(name: "Strict-Transport-Security")?.hasPrefix("max-age=") == true)
        }
    }

    @Test func pagesHaveNoInlineScriptsOrHandlers() throws {
        let folder = TestDatabase.packageRoot + "/Public"
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".html") {
            let html = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            let scripts = html.components(separatedBy: "<script").dropFirst()
            #expect(scripts.allSatisfy { $0.hasPrefix(" type=\"module\" src=") }, "\(name) has an inline script")
            #expect(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil, "\(name) has an inline handler")
        }
    }

    @Test func searchMatchesBackslashPercentAndUnderscoreLiterally() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in try await Self.search(app) }
    }

    static func search(_ app: Application) async throws {
        let backslashed = "a back\\slash"
        for prompt in [backslashed, "fifty% off", "snake_case", "plain words"] {
            let created = try await app.postJSON("v1/generate", ["prompt": prompt])
            #expect(created.status == .accepted)
        }
        let backslash = String(Character(Unicode.Scalar(UInt8(92))))
        #expect(try await found(app, backslash) == [backslashed])
        #expect(try await found(app, "%") == ["fifty% off"])
        #expect(try await found(app, "_") == ["snake_case"])
        #expect(try await found(app, "PLAIN") == ["plain words"])
    }

    static func found(_ app: Application, _ q: String) async throws -> [String] {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "q", value: q)]
        let response = try await app.send(.GET, "v1/jobs?\(components.percentEncodedQuery!)")
        #expect(response.status == .ok, "q=\(q): \(response.json)")
        return ((response.json["data"] as? [[String: Any]]) ?? []).compactMap { $0[path: "params.prompt"] as? String }
    }

    @Test func theCompatibleEditRouteRefusesURLResponsesBeforeAnyJob() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            var form = MultipartBody()
            form.field("prompt", "x")
            form.field("response_format", "url")
            form.file("image", filename: "a.png", try ImageProcessing.synthesize(width: 64, height: 64, format: .png, seed: 1))
            let response = try await app.send(.POST, "v1/images/edits", headers: form.headers, body: form.buffer)
            #expect(response.status == .badRequest)
            #expect(response.json[path: "error.param"] as? String == "response_format")
            #expect(try await JobRecord.query(on: app.db).count() == 0)
        }
    }

    @Test func internalFailureDetailsGoToTheLogAndUsersGetAReference() async throws {
        let detail = "connect to /var/lib/atelier/private.sock via bucket atelier-prod-images failed"
        let provider = FakeImageProvider(script: [.failure(.connection(message: detail))])
        let lines = CapturedLogs()
        try await withTestApp(try .testing(maxAttempts: 1), overrides: .init(provider: provider)) { app in
            app.logger = Logger(label: "capture") { _ in CapturingLogHandler(logs: lines) }
            let created = try await app.postJSON("v1/generate", ["prompt": "x"])
            let id = try #require(created.json["id"] as? String)
            try await app.drainJobs(app.makeJobWorker())
            let job = try await app.job(id)
            let message = try #require(job[path: "error.message"] as? String)
            #expect(!message.contains("/var/lib") && !message.contains("atelier-prod-images"), "\(message)")
            let reference = try #require(message.firstMatch(of: /reference ([0-9a-f]{12})/)?.output.1)
            #expect(lines.text.contains(String(reference)) && lines.text.contains("atelier-prod-images"))
        }
    }
}
