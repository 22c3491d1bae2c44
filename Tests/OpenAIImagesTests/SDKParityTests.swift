import Foundation
import Testing

/// Runs tests/sdk/test_sdk_parity.py (the official Python SDK) against an in-process stand-in.
/// Opt-in: set ATELIER_SDK_PARITY=1 (needs `pip install openai==3.57.0 pytest`).
@Suite("Python SDK parity (opt-in)")
struct SDKParityTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ATELIER_SDK_PARITY"] == "1"))
    func officialSDKSendsTheSameShape() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        try await Harness.run { h in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", root.appendingPathComponent("tests/sdk").path]
            var environment = ProcessInfo.processInfo.environment
            environment["ATELIER_STANDIN_URL"] = "http://127.0.0.1:\(h.port)"
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            print(text)
            #expect(status == 0, "\(text)")
        }
    }
}
