import AtelierCore
@testable import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

/// Sign-up under `SIGNUP` (approval by default): pending accounts wait for an admin, the first admin never comes
/// from the web's first visitor (only `users create --admin` or the one-time setup link), invitations skip approval,
/// and the answer never tells whether an email has an account.
@Suite struct SignupPolicyTests {
    static func signup(_ app: Application, _ email: String, _ extra: [String: Any] = [:]) async throws -> TestingHTTPResponse {
        try await app.postJSON(
            "v1/auth/signup", ["email": email, "password": TestAccount.password, "consent": true].merging(extra) { $1 })
    }

    static func access(_ policy: AtelierConfig.Access.Signup) -> AtelierConfig.Access {
        var access = AtelierConfig.Access.accountsTesting
        access.signup = policy
        return access
    }

    @Test func byDefaultTheFirstVisitorIsAPendingMemberWhoCanSignInButNotGenerate() async throws {
        var problems: [String] = []
        #expect(AtelierConfig.Access.fromEnvironment([:], problems: &problems).signup == .approval)
        #expect(AtelierConfig.Access.fromEnvironment(["SIGNUP": "sometimes"], problems: &problems).signup == .approval)
        #expect(problems.count == 1)
        try await withAccountsApp { app in
            // MUT: the very first sign-up on an empty database
            let response = try await Self.signup(app, "first@example.com")
            // validate
            #expect(response.status == .accepted)
            #expect(response.headers[.setCookie].isEmpty)
            let user = try #require(try await UserRecord.query(on: app.db).first())
            #expect(!user.isAdmin && user.accountStatus == .pending)
            let (session, csrf) = try await app.signIn("first@example.com")
            let browser: HTTPHeaders = [
                "Cookie": "atelier_session=\(session); atelier_csrf=\(csrf)", "X-CSRF-Token": csrf, "Host": "localhost:8080",
            ]
            let me = try await app.send(.GET, "v1/auth/session", headers: browser)
            #expect(me.json[path: "user.status"] as? String == "pending")
            #expect(try await app.send(.GET, "v1/me", headers: browser).status == .ok)
            let generate = try await app.postJSON("v1/generate", ["prompt": "a boat"], headers: browser)
            #expect(generate.status == .forbidden && generate.errorCode == "account_pending")
            let key = try await app.postJSON("v1/me/keys", ["name": "k", "password": TestAccount.password], headers: browser)
            #expect(key.status == .forbidden && key.errorCode == "account_pending")
            #expect(try await app.send(.GET, "v1/jobs", headers: browser).errorCode == "account_pending")
            #expect(try await APIKeyRecord.query(on: app.db).count() == 0)
            #expect(try await JobRecord.query(on: app.db).count() == 0)
            // an admin approves
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let approve = try await app.sendJSON(.PATCH, "v1/admin/users/\(user.ownerKey)", ["status": "active"], headers: admin.bearer)
            #expect(approve.status == .ok && approve.json["status"] as? String == "active")
            #expect(try await app.postJSON("v1/generate", ["prompt": "a boat"], headers: browser).status == .accepted)
        }
    }

    @Test func closedRefusesSignUpButAnInvitationWorksOnceAndNotAfterItExpires() async throws {
        let clock = ManualClock(1_800_000_000)
        try await withAccountsApp(access: Self.access(.closed), clock: clock.clock) { app in
            let refused = try await Self.signup(app, "stranger@example.com")
            #expect(refused.status == .forbidden && refused.errorCode == "signup_closed")
            let admin = try await app.makeAccountByCommand("root@example.com", admin: true)
            let invite = try await app.postJSON("v1/admin/invites", ["expires_in_hours": 1], headers: admin.bearer)
            #expect(invite.status == .created)
            let token = try #require(invite.json["token"] as? String)
            #expect(invite.json["link"] as? String == "/login.html#invite=\(token)")
            // MUT
            let invited = try await Self.signup(app, "guest@example.com", ["invite": token])
            let again = try await Self.signup(app, "second@example.com", ["invite": token])
            // validate
            #expect(invited.status == .accepted)
            let guest = try #require(try await UserAccounts(app: app).find(email: "guest@example.com"))
            #expect(guest.accountStatus == .active && !guest.isAdmin)
            #expect(again.status == .badRequest && again.errorCode == "invalid_invite" && again.errorField == "invite")
            #expect(try await UserAccounts(app: app).find(email: "second@example.com") == nil)
            let late = try #require(try await app.postJSON("v1/admin/invites", [:], headers: admin.bearer).json["token"] as? String)
            let listed = try await app.send(.GET, "v1/admin/invites", headers: admin.bearer).json["data"] as? [[String: Any]]
            #expect(listed?.count == 1 && listed?.first?["token"] == nil)
            clock.advance(by: 73 * 3600)
            #expect(try await Self.signup(app, "late@example.com", ["invite": late]).errorCode == "invalid_invite")
        }
    }

    @Test func openSignUpIsActiveAtOnce() async throws {
        try await withAccountsApp(access: Self.access(.open)) { app in
            #expect(try await Self.signup(app, "free@example.com").status == .accepted)
            let user = try #require(try await UserAccounts(app: app).find(email: "free@example.com"))
            #expect(user.accountStatus == .active && !user.isAdmin)
        }
    }

    @Test func ofSimultaneousSignUpsWithTheSetupTokenExactlyOneBecomesAdmin() async throws {
        try await withAccountsApp(access: Self.access(.closed)) { app in
            // setup
            let token = try #require(try await SetupToken.issueIfNoAdmin(app))
            // MUT
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask { _ = try await Self.signup(app, "u\(index)@example.com", ["setup_token": token]) }
                }
                try await group.waitForAll()
            }
            // validate
            #expect(try await UserRecord.query(on: app.db).count() == 1)
            let admin = try #require(try await UserRecord.query(on: app.db).first())
            #expect(admin.isAdmin && admin.accountStatus == .active)
            #expect(try await SetupToken.issueIfNoAdmin(app) == nil, "an admin exists: no new setup link")
            #expect(try await Self.signup(app, "late@example.com", ["setup_token": token]).errorCode == "invalid_setup_token")
        }
    }

    @Test func anAdminMadeOnTheCommandLineVoidsTheSetupLink() async throws {
        try await withAccountsApp { app in
            let token = try #require(try await SetupToken.issueIfNoAdmin(app))
            _ = try await UserAccounts(app: app).create(
                email: "ops@example.com", password: TestAccount.password, role: .admin, consent: false)
            #expect(try await Self.signup(app, "web@example.com", ["setup_token": token]).errorCode == "invalid_setup_token")
            #expect(try await UserRecord.query(on: app.db).filter(\.$role == "admin").count() == 1)
        }
    }

    @Test func signUpAnswersTheSameWhetherOrNotTheEmailHasAnAccount() async throws {
        try await withAccountsApp { app in
            let existing = try await app.makeAccount("taken@example.com")
            // MUT
            let taken = try await app.postJSON(
                "v1/auth/signup", ["email": "Taken@example.com", "password": "another password!", "consent": true])
            let fresh = try await Self.signup(app, "new@example.com")
            // validate
            #expect(taken.status == fresh.status)
            #expect(String(buffer: taken.body) == String(buffer: fresh.body))
            #expect(taken.headers[.setCookie] == fresh.headers[.setCookie])
            #expect(try await UserRecord.query(on: app.db).filter(\.$email == "taken@example.com").count() == 1)
            #expect(try await app.send(.GET, "v1/me", headers: existing.bearer).status == .ok, "the account is untouched")
            _ = try await app.signIn("taken@example.com")
        }
    }

    @Test func anAdminRejectsAPendingSignUpAndMayNotRejectAnActiveAccount() async throws {
        try await withAccountsApp { app in
            let admin = try await app.makeAccount("root@example.com", admin: true)
            let member = try await app.makeAccount("member@example.com")
            _ = try await Self.signup(app, "pending@example.com")
            let pending = try #require(try await UserAccounts(app: app).find(email: "pending@example.com"))
            #expect(try await app.send(.DELETE, "v1/admin/users/\(pending.ownerKey)", headers: admin.bearer).status == .noContent)
            #expect(try await UserAccounts(app: app).find(email: "pending@example.com") == nil)
            let active = try await app.send(.DELETE, "v1/admin/users/\(member.owner)", headers: admin.bearer)
            #expect(active.status == .conflict && active.errorCode == "not_pending")
        }
    }
}

extension Application {
    /// An account made as `atelier users create` makes it (active), signed in, with an all-scopes key for admins.
    func makeAccountByCommand(_ email: String, admin: Bool = false) async throws -> TestAccount {
        let user = try await UserAccounts(app: self).create(
            email: email, password: TestAccount.password, role: admin ? .admin : .member, consent: false)
        let (session, csrf) = try await signIn(email)
        let scopes = admin ? Set(APIKeyScope.allCases) : APIKeyScope.defaults
        let key = try await APIKeyIssuer(database: db, clock: atelier.clock).issue(for: user.requireID(), name: "test", scopes: scopes)
        return TestAccount(user: user, apiKey: key.secret, sessionCookie: session, csrfToken: csrf)
    }
}
