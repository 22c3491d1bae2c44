import Foundation
import Synchronization

/// Synthesized images kept by everything that determines their bytes, so repeated identical calls are answered
/// from memory (`StandInOptions.reuseImages`): a benchmark's upstream then costs its latency, not libvips' CPU time.
final class StandInImageCache: Sendable {
    private let images = Mutex<[String: Data]>([:])
    /// Distinct images kept; past it the cache starts over (a benchmark repeats a handful of calls).
    let capacity: Int

    init(capacity: Int = 32) { self.capacity = capacity }

    func image(forKey key: String, make: () throws -> Data) rethrows -> Data {
        if let found = images.withLock({ $0[key] }) { return found }
        let made = try make()
        images.withLock { stored in
            if stored.count >= capacity { stored.removeAll() }
            stored[key] = made
        }
        return made
    }
}
