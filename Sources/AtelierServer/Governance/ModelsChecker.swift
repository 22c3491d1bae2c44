import AtelierCore
import Vapor

/// Compares the registry as it stands today with the upstream's `GET /v1/models` (the `models check` command
/// and `GET /v1/admin/models/check`).
struct ModelsChecker {
    let services: AtelierServices

    func run() async throws -> ModelsCheckReport {
        guard let lister = services.provider as? any UpstreamModelLister else {
            throw APIError(
                status: .conflict, code: "no_upstream",
                message: "Atelier runs offline (no OPENAI_API_KEY), so there is no upstream model list to compare with.")
        }
        let upstream: [UpstreamModel]
        do { upstream = try await lister.listModels() } catch {
            throw APIError(
                status: .badGateway, code: "upstream_error",
                message: "The upstream's model list could not be read (\(error.code)); try again later.")
        }
        return services.registry.check(against: upstream)
    }
}

/// `atelier models check`: prints what is new, gone or changed upstream. Exit status 0 when the registry agrees,
/// 1 when it differs, 2 when the upstream could not be asked (for scripts and cron).
struct ModelsCommand: AsyncCommandGroup {
    var help: String { "Compares the model registry with the upstream." }
    var commands: [String: any AnyAsyncCommand] { ["check": ModelsCheckCommand()] }
}

struct ModelsCheckCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "json", help: "Print the report as JSON")
        var json: Bool
    }

    var help: String { "Lists models that are new, gone or changed upstream; exit 1 when any differ." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let report: ModelsCheckReport
        do { report = try await ModelsChecker(services: context.application.atelier).run() } catch let error as APIError {
            context.console.error(error.message)
            throw ExitStatus(code: 2)
        }
        if signature.json {
            let data = try JSONEncoder.sortedPretty.encode(report)
            context.console.output(String(decoding: data, as: UTF8.self).consoleText())
        } else {
            for line in report.lines { context.console.output(line.consoleText()) }
        }
        if !report.agrees { throw ExitStatus(code: 1) }
    }
}

/// Ends the process with `code` after the command's output (the entry point exits with it, reporting nothing).
public struct ExitStatus: Error {
    public let code: Int32
}

extension JSONEncoder {
    static var sortedPretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }
}

extension ModelsCheckReport: Content {}
