import Vapor

/// `atelier doctor`: checks the configuration, the database (reachable, migrated), storage (a probe object written,
/// read and deleted), the upstream (an authenticated `GET /models`, or "offline") and free disk under DATA_DIR;
/// prints a table and what to fix. Exit status 0 when nothing failed, 1 otherwise (warnings do not fail).
struct DoctorCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    /// Set when the configuration itself is invalid: nothing else can be checked.
    var configProblems: [String] = []
    /// The SQLite file, when it did not exist before start-up (boot opens and so creates it).
    var missingDatabase: String?

    var help: String { "Checks configuration, database, storage, upstream and disk; exit status 1 if any check fails." }

    func run(using context: CommandContext, signature: Signature) async throws {
        var results: [DoctorResult]
        if configProblems.isEmpty {
            results = await DoctorChecks(app: context.application, missingDatabase: missingDatabase).all()
        } else {
            results = [
                DoctorResult(
                    check: "configuration", status: .fail, detail: "\(configProblems.count) invalid setting(s)",
                    fix: configProblems.joined(separator: "; "))
            ]
            for check in ["database", "storage", "upstream", "disk"] {
                results.append(DoctorResult(check: check, status: .skipped, detail: "not checked: the configuration is invalid"))
            }
        }
        context.console.print(DoctorResult.table(results))
        let failed = results.filter { $0.status == .fail }.count
        if failed > 0 { throw OperatorError("doctor: \(failed) check(s) failed") }
    }
}

/// One row of the doctor's table.
struct DoctorResult: Equatable {
    enum Status: String { case ok, warn, fail, offline, skipped }

    var check: String
    var status: Status
    var detail: String
    var fix: String?

    static func table(_ results: [DoctorResult]) -> String {
        let width = max(5, results.map(\.check.count).max() ?? 0)
        func pad(_ text: String, _ count: Int) -> String { text + String(repeating: " ", count: max(0, count - text.count)) }
        var lines = ["\(pad("CHECK", width))  \(pad("STATUS", 7))  DETAIL"]
        for result in results {
            lines.append("\(pad(result.check, width))  \(pad(result.status.rawValue, 7))  \(result.detail)")
        }
        let fixes = results.compactMap { result in result.fix.map { "  \(result.check): \($0)" } }
        if !fixes.isEmpty { lines += ["", "To fix:"] + fixes }
        return lines.joined(separator: "\n")
    }
}
