import AtelierServer
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
            try await app.execute()
        } catch let status as ExitStatus {
            try? await app.asyncShutdown()
            exit(status.code)
        } catch {
            app.logger.report(error: error)
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
