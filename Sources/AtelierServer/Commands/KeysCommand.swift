import Fluent
import Vapor

/// `atelier keys create EMAIL [--name NAME] [--scopes generate,read]`: issues an API key for an account and prints
/// it (shown once). `admin` and `metrics` scopes only for admins (a Prometheus scraper's key: `--scopes metrics`).
struct KeysCommand: AsyncCommandGroup {
    var help: String { "Manages API keys." }
    var commands: [String: any AnyAsyncCommand] { ["create": CreateKeyCommand()] }
}

struct CreateKeyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "email", help: "The account's email address")
        var email: String
        @Option(name: "name", help: "A name to tell the key apart")
        var name: String?
        @Option(name: "scopes", help: "Comma-separated scopes: generate, read, admin, metrics (default generate,read)")
        var scopes: String?
    }

    var help: String { "Creates an API key and prints it once." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        guard let user = try await UserAccounts(app: app).find(email: signature.email) else {
            throw OperatorError("no account with the email \(signature.email): create it with `atelier users create`")
        }
        let scopes = try APIKeyScope.requested(
            signature.scopes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }, isAdmin: user.isAdmin)
        let issued = try await APIKeyIssuer(database: app.db, clock: app.atelier.clock)
            .issue(for: user.requireID(), name: signature.name ?? "cli", scopes: scopes)
        context.console.output("\(issued.secret)")
        context.console.output("(prefix \(issued.record.prefix), scopes \(issued.record.scopes); it is not shown again)")
    }
}
