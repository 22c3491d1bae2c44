import Fluent
import Vapor

/// `atelier users create EMAIL [--admin] [--verified] [--password P | --password-file F | --password-stdin]`: creates
/// an account from the command line (prints a generated password when none is given). Never prompts: a script or a
/// service passes the password in a file or on stdin (not on the command line, where `ps` shows it).
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
        @Option(name: "password-file", help: "Read the password from the first line of this file")
        var passwordFile: String?
        @Flag(name: "password-stdin", help: "Read the password from the first line of standard input")
        var passwordStdin: Bool
    }

    var help: String { "Creates an account." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let given = try Self.givenPassword(signature)
        try await app.autoMigrate()
        let password = given ?? SecretToken.random(bytes: 12)
        let user = try await UserAccounts(app: app).create(
            email: signature.email, password: password, role: signature.admin ? .admin : .member, consent: false)
        if signature.verified {
            user.verified = true
            try await user.update(on: app.db)
        }
        context.console.output("created \(user.role) \(user.email) (id \(user.ownerKey))")
        if given == nil { context.console.output("password: \(password)") }
    }

    /// The password from `--password`, `--password-file` or `--password-stdin` (at most one), or nil.
    static func givenPassword(_ signature: Signature) throws -> String? {
        let sources = [signature.password != nil, signature.passwordFile != nil, signature.passwordStdin].filter { $0 }
        guard sources.count <= 1 else {
            throw OperatorError("give the password one way: --password, --password-file or --password-stdin")
        }
        let text: String
        if let path = signature.passwordFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw OperatorError("--password-file \(path): cannot read the file")
            }
            text = String(decoding: data, as: UTF8.self)
        } else if signature.passwordStdin {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            return signature.password
        }
        let line =
            text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
            .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "\r")) } ?? ""
        guard !line.isEmpty else {
            throw OperatorError(
                "\(signature.passwordStdin ? "standard input" : "--password-file") holds no password (its first line is empty)")
        }
        return line
    }
}
