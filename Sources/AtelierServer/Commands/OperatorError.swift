import Vapor

/// A mistake an operator can fix (a wrong argument, a missing file): reported as one line, exit status 1.
struct OperatorError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}

/// The one line `atelier` prints on stderr when a command fails (no log decoration, no backtrace).
public func commandLineMessage(for error: any Error) -> String {
    switch error {
    case let error as ConfigError: "cannot start; fix these settings: " + error.problems.joined(separator: "; ")
    case let error as APIError: error.message
    case let error as any CustomStringConvertible: error.description
    default: String(reflecting: error)
    }
}
