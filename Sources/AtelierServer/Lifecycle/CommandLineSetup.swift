import AtelierCore
import Fluent
import OpenAIStandIn
import Vapor

/// Prepares the app for the command on the command line:
/// `serve` (HTTP + in-process worker unless WORKER_ENABLED=false), `worker` (workers only),
/// `migrate`, `stand-in` (the OpenAI-compatible stand-in upstream, no database).
public func prepareCommandLine(_ app: Application) async throws {
    let command = app.environment.arguments.dropFirst().first ?? "serve"
    app.asyncCommands.use(StandInCommand(), as: "stand-in")
    if command == "stand-in" { return }
    let config: AtelierConfig
    do { config = try AtelierConfig.fromEnvironment() } catch let error as ConfigError {
        app.logger.critical("\(error.description)")
        throw error
    }
    try await configure(app, config: config)
    app.asyncCommands.use(WorkerCommand(), as: "worker")
    if command == "serve" || command.hasPrefix("-") {
        try await app.autoMigrate()
        if config.worker.enabled { app.lifecycle.use(WorkerLifecycle()) }
        app.logger.notice("Atelier \(StatusController.version): \(config.isOffline ? "offline demo (synthetic images)" : "OpenAI at \(config.openAI!.baseURL)"), data in \(config.dataDirectory)")
    }
}

/// `atelier worker`: runs job workers only, until SIGTERM or SIGINT; then stops claiming and lets running jobs
/// finish within SHUTDOWN_GRACE_SECONDS (their leases are released otherwise, so nothing is lost).
struct WorkerCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Runs job workers without the HTTP server." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        let worker = app.makeJobWorker()
        app.jobWorker = worker
        let task = Task { await worker.run() }
        await ShutdownSignal.wait()
        app.logger.notice("worker shutting down")
        task.cancel()
        await app.atelier.hub.wakeWorkers()
        await task.value
    }
}

/// Waits for SIGTERM or SIGINT.
enum ShutdownSignal {
    static func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumed = ResumeOnce(continuation)
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { resumed.resume() }
                source.resume()
                resumed.keep(source)
            }
        }
    }

    private final class ResumeOnce: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Void, Never>?
        private var sources: [any DispatchSourceSignal] = []

        init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }

        func keep(_ source: any DispatchSourceSignal) { lock.withLock { sources.append(source) } }

        func resume() {
            let pending = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                defer { continuation = nil }
                return continuation
            }
            pending?.resume()
        }
    }
}
