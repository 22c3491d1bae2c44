import Fluent
import Vapor

/// `atelier users create EMAIL [--admin] [--verified] [--password P]`: creates an account from the command line
/// (prints a generated password when none is given).
struct UsersCommand: AsyncCommandGroup {
    var help: String { "Manages accounts." }
    var commands: [String: any AnyAsyncCommand] { ["create": CreateUserCommand()] }
}

struct CreateUserCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "email", help: "The account's email address")
        var email: String
        @Flag(name: "admin", help: "Make the account an admin")
        var admin: Bool
        @Flag(name: "verified", help: "Mark the account verified (moderation=low allowed)")
        var verified: Bool
        @Option(name: "password", help: "The password (10+ characters); generated and printed when omitted")
        var password: String?
    }

    var help: String { "Creates an account." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        let password = signature.password ?? SecretToken.random(bytes: 12)
        let user = try await UserAccounts(app: app).create(
            email: signature.email, password: password, role: signature.admin ? .admin : .member, consent: false)
        if signature.verified {
            user.verified = true
            try await user.update(on: app.db)
        }
        context.console.output("created \(user.role) \(user.email) (id \(user.ownerKey))")
        if signature.password == nil { context.console.output("password: \(password)") }
    }
}
