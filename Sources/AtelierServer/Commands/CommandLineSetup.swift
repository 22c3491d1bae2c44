import AtelierCore
import Fluent
import Metrics
import OpenAIStandIn
import Prometheus
import ServiceLifecycle
import Vapor

/// Prepares the app for the command on the command line:
/// `serve` (HTTP + in-process worker unless WORKER_ENABLED=false), `worker` (workers only),
/// `migrate`, `doctor`, `backup`, `restore`, `users`, `keys`, `models check`, `stand-in` (the OpenAI-compatible
/// stand-in upstream, no database), `mcp` (MCP on stdio, no database).
public func prepareCommandLine(_ app: Application) async throws {
    let command = app.environment.arguments.dropFirst().first ?? "serve"
    app.asyncCommands.use(StandInCommand(), as: "stand-in")
    app.asyncCommands.use(MCPCommand(), as: "mcp")
    if command == "stand-in" || command == "mcp" { return }
    // The doctor's table is its output: the failures it reports would otherwise also be logged around it.
    if command == "doctor" { app.logger.logLevel = .critical }
    let config: AtelierConfig
    do { config = try AtelierConfig.fromEnvironment() } catch let error as ConfigError where command == "doctor" {
        app.asyncCommands.use(DoctorCommand(configProblems: error.problems), as: "doctor")
        return
    }
    if command == "restore" {  // before any database connection: it puts the database file in place
        app.asyncCommands.use(RestoreCommand(config: config), as: "restore")
        return
    }
    let serves = command == "serve" || command.hasPrefix("-")
    if serves, let problem = StudioFiles.problem(config) {
        throw ConfigError(problems: [problem])
    }
    if !config.access.loginRequired && serves {
        let host = bindHost(app.environment.arguments)
        guard CallerResolver.isLoopbackHost(host) else {
            throw ConfigError(problems: ["ATELIER_AUTH=off is only allowed on a loopback bind (127.0.0.1, ::1); serve binds \(host)"])
        }
        app.logger.warning("ATELIER_AUTH=off: login is switched off; only this machine can use Atelier.")
    }
    let missingDatabase = config.missingSQLiteFile  // read before boot, which opens (and so creates) the file
    try await configure(app, config: config)
    // Vapor's HTTP metrics (and any library using swift-metrics) go to the registry `GET /v1/metrics` serves.
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: app.atelier.metrics.registry))
    app.asyncCommands.use(WorkerCommand(), as: "worker")
    app.asyncCommands.use(UsersCommand(), as: "users")
    app.asyncCommands.use(KeysCommand(), as: "keys")
    app.asyncCommands.use(ModelsCommand(), as: "models")
    app.asyncCommands.use(MigrateCommand(), as: "migrate")  // replaces Fluent's, which asks "y/n"
    app.asyncCommands.use(DoctorCommand(missingDatabase: missingDatabase), as: "doctor")
    app.asyncCommands.use(BackupCommand(missingDatabase: missingDatabase), as: "backup")
    if command == "worker" {
        try await app.autoMigrate()
        try await app.useSQLiteWAL()
        app.addJobLoops()
        app.addHousekeeping()
        if let relay = app.eventRelayLoop { app.backgroundServices.append(relay) }
    }
    if serves {
        try await app.autoMigrate()
        try await app.useSQLiteWAL()
        if config.worker.enabled { app.addJobLoops() }
        app.addHousekeeping()
        if let relay = app.eventRelayLoop { app.backgroundServices.append(relay) }
        if let token = try await SetupToken.issueIfNoAdmin(app) {
            app.logger.warning(
                "No admin yet. To create the first admin, open /login.html#setup=\(token) on this server and sign up (the link works once, until the next restart), or run `atelier users create EMAIL --admin`."
            )
        }
        app.logger.notice(
            "Atelier \(StatusController.version): \(config.isOffline ? "offline demo (synthetic images)" : "OpenAI at \(config.openAI!.baseURL)"), data in \(config.dataDirectory)"
        )
        if let warning = config.access.spendWarning(spendsMoney: !config.isOffline) { app.logger.warning("\(warning)") }
    }
}

/// The host `serve` binds: `--hostname`/`-H` (also `--bind`/`-b` host:port), else Vapor's default 127.0.0.1.
func bindHost(_ arguments: [String]) -> String {
    for (index, argument) in arguments.enumerated() where index + 1 < arguments.count {
        if argument == "--hostname" || argument == "-H" { return arguments[index + 1] }
        if argument == "--bind" || argument == "-b" {
            let bind = arguments[index + 1]
            return bind.hasPrefix("[") ? String(bind.dropFirst().prefix { $0 != "]" }) : String(bind.split(separator: ":").first ?? "")
        }
    }
    return "127.0.0.1"
}

/// `atelier worker`: runs job workers only (the loops `prepareCommandLine` added), until SIGTERM or SIGINT; then
/// the service group stops claiming and lets running jobs finish within SHUTDOWN_GRACE_SECONDS (their leases are
/// released otherwise, so nothing is lost).
struct WorkerCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Runs job workers without the HTTP server." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let metrics = try await WorkerMetricsListener.start(for: app)
        try? await gracefulShutdown()  // this command runs inside the service group (`runServices`)
        app.logger.notice("worker shutting down")
        try await metrics?.stop()
    }
}
