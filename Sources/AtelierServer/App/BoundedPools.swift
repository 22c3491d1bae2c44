import NIOPosix
import Vapor

/// CPU-heavy request work on pools of its own, so it cannot take the threads the database driver and the rest of
/// the server need, and at most a pool's width of it runs at once: bcrypt (password hashing and checks) and the
/// decoding of uploaded images (done after admission: rate limits are checked first).
extension Application {
    private struct PasswordHashingKey: StorageKey { typealias Value = NIOThreadPool }
    private struct ImageDecodingKey: StorageKey { typealias Value = NIOThreadPool }
    private struct PoolsLock: LockKey {}

    /// Two threads: sign-ins wait their turn instead of occupying the server.
    var passwordHashingPool: NIOThreadPool { pool(PasswordHashingKey.self, threads: 2) }

    /// One thread per core, at least two.
    var imageDecodingPool: NIOThreadPool { pool(ImageDecodingKey.self, threads: max(2, System.coreCount)) }

    private func pool<Key: StorageKey>(_ key: Key.Type, threads: Int) -> NIOThreadPool where Key.Value == NIOThreadPool {
        locks.lock(for: PoolsLock.self).withLock {
            if let pool = storage[Key.self] { return pool }
            let pool = NIOThreadPool(numberOfThreads: threads)
            pool.start()
            storage.set(Key.self, to: pool, onShutdown: { try $0.syncShutdownGracefully() })
            return pool
        }
    }
}
