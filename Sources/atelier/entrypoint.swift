import AtelierServer
import Foundation
import Logging
import Vapor

@main
enum Entrypoint {
    static func main() async throws {
        AllocatorTuning.apply()
        var env = try Environment.detect()
        try LoggingSystem.bootstrap(from: &env)
        let app = try await Application.make(env)
        do {
            try await prepareCommandLine(app)
            try await app.runServices()  // the command and the background loops, until done or SIGTERM/SIGINT
        } catch let status as ExitStatus {
            try? await app.asyncShutdown()
            exit(status.code)
        } catch {
            // An operator's mistake (bad setting, unknown command, missing file) is one line and status 1, not a
            // crash report: no service unit or script should have to read a backtrace.
            try? await app.asyncShutdown()
            FileHandle.standardError.write(Data("atelier: \(commandLineMessage(for: error))\n".utf8))
            exit(1)
        }
        try await app.asyncShutdown()
    }
}
