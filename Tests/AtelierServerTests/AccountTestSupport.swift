import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// A signed-in test user: how to call as them with a session cookie or with an API key.
struct TestAccount {
    var user: UserRecord
    var apiKey: String
    var sessionCookie: String
    var csrfToken: String

    static let password = "correct horse battery"

    var owner: String { user.ownerKey }
    var bearer: HTTPHeaders { ["Authorization": "Bearer \(apiKey)"] }
    /// Cookie + CSRF token, as the studio sends them on a write.
    var browser: HTTPHeaders {
        ["Cookie": "atelier_session=\(sessionCookie); atelier_csrf=\(csrfToken)", "X-CSRF-Token": csrfToken, "Host": "localhost:8080"]
    }
}

/// Runs `body` with login required (the account suites' default) and an in-memory blob store.
func withAccountsApp(
    access: AtelierConfig.Access = .accountsTesting, provider: FakeImageProvider = FakeImageProvider(),
    blobs: InMemoryBlobStore = InMemoryBlobStore(), clock: AtelierClock? = nil, _ body: (Application) async throws -> Void
) async throws {
    try await withTestApp(try .testing(access: access), overrides: .init(provider: provider, blobs: blobs, clock: clock), body)
}

extension AtelierClock {
    /// A clock stopped at the start of a rate-limit window, so fixed-window counts never straddle two windows.
    static var frozenAtWindowStart: AtelierClock { AtelierClock { 1_800_000_000 } }
}

extension Application {
    /// Signs up through the API (consent given), approves the account, signs in, then issues an API key (with
    /// `scopes`, default generate+read, plus admin and metrics for admins); optionally verified or admin.
    func makeAccount(
        _ email: String, admin: Bool = false, verified: Bool = false, scopes: Set<APIKeyScope>? = nil
    ) async throws -> TestAccount {
        let response = try await postJSON("v1/auth/signup", ["email": email, "password": TestAccount.password, "consent": true])
        #expect(response.status == .accepted, "\(response.json)")
        let user = try #require(try await UserRecord.query(on: db).filter(\.$email == email).first())
        user.role = (admin ? UserRecord.Role.admin : .member).rawValue
        user.status = UserRecord.Status.active.rawValue
        user.verified = verified
        try await user.update(on: db)
        let (session, csrf) = try await signIn(email)
        let keyScopes = scopes ?? (admin ? Set(APIKeyScope.allCases) : APIKeyScope.defaults)
        let key = try await APIKeyIssuer(database: db, clock: atelier.clock).issue(for: user.requireID(), name: "test", scopes: keyScopes)
        return TestAccount(user: user, apiKey: key.secret, sessionCookie: session, csrfToken: csrf)
    }

    /// Signs in through the API; returns the session cookie and CSRF token.
    func signIn(_ email: String, password: String = TestAccount.password) async throws -> (session: String, csrf: String) {
        let response = try await postJSON("v1/auth/login", ["email": email, "password": password])
        #expect(response.status == .ok, "\(response.json)")
        let cookies = response.headers[.setCookie]
        return (try #require(Self.cookie("atelier_session", in: cookies)), try #require(Self.cookie("atelier_csrf", in: cookies)))
    }

    static func cookie(_ name: String, in headers: [String]) -> String? {
        for header in headers {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
        }
        return nil
    }

    /// Generates one job as `account` and runs it; returns the job JSON.
    func finishedJob(as account: TestAccount, _ body: [String: Any] = ["prompt": "a lighthouse"]) async throws -> [String: Any] {
        let created = try await postJSON("v1/generate", body, headers: account.bearer)
        #expect(created.status == .accepted, "\(created.json)")
        let id = try #require(created.json["id"] as? String)
        try await drainJobs(makeJobWorker())
        return try await send(.GET, "v1/jobs/\(id)", headers: account.bearer).json
    }

    /// Rows of `table` whose `column` equals `value`.
    func count(_ table: String, where column: String, is value: any Encodable & Sendable) async throws -> Int {
        let sql = db as! any SQLDatabase
        return try await sql.raw("SELECT COUNT(*) AS n FROM \(ident: table) WHERE \(ident: column) = \(bind: value)")
            .first()?.decode(column: "n", as: Int.self) ?? -1
    }
}
