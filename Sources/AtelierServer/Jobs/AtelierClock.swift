import Foundation

/// The time source every component reads, so tests can pin it.
public struct AtelierClock: Sendable {
    public var now: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Double) { self.now = now }

    public static let system = AtelierClock { Date().timeIntervalSince1970 }
}
