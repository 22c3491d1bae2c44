import Foundation
import ServiceLifecycle
import Vapor

/// The background loop that advances `openai_batch` batches (`OpenAIBatchRunner`): it takes every due batch, then
/// sleeps `tick` seconds. Due times and leases are in the database, so any number of instances may run it.
struct OpenAIBatchPoller: Sendable {
    let runner: OpenAIBatchRunner
    var tick: Duration = .seconds(5)

    func run() async {
        while !Task.isCancelled {
            do {
                while try await runner.runNext() {}
            } catch is CancellationError {
                return
            } catch {
                runner.app.logger.warning("openai batch poller: \(error)")
            }
            try? await Task.sleep(for: tick)
        }
    }
}

extension Application {
    /// Adds the OpenAI batch poller to this process's service group (nothing when running offline).
    func addOpenAIBatchPoller() {
        guard let runner = OpenAIBatchRunner(app: self) else { return }
        let poller = OpenAIBatchPoller(runner: runner)
        backgroundServices.append(BackgroundLoop(description: "openai batch poller", loop: { await poller.run() }))
    }
}
