#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Synchronization

/// Page-aligned buffers that large decoded images are written into, reused from one response to the next.
///
/// A fresh multi-megabyte buffer per image is mapped anew by the allocator (`AllocatorTuning`'s 1 MiB threshold) and
/// faults in page by page as the decoder writes it (about 5 % of the process's samples at 16 concurrent 3 MB
/// requests). A reused buffer is already resident. Its start is aligned to the page, so the blob store writes it
/// to disk with `O_DIRECT` straight from where it was decoded (`DirectFileWrite`), without the copy into an
/// aligned buffer. The image is handed on as a `Data` over the buffer (no copy); the buffer comes back here
/// when that `Data` is released. Spare buffers are kept up to `maxSpareBytes`, beyond that they are freed.
public final class DecodeBufferPool: Sendable {
    public static let shared = DecodeBufferPool(maxSpareBytes: 32 << 20)
    /// Decoded values announced smaller than this are plain `Data` (no pooling, no direct write).
    static let minimumBytes = 256 << 10
    static let alignment = 4096
    /// Capacities are rounded up to this, so images of about the same size share buffers.
    private static let granule = 256 << 10

    private struct Spare {
        var buffers: [(address: UInt, capacity: Int)] = []
        var bytes = 0
    }

    private let maxSpareBytes: Int
    private let spare = Mutex(Spare())

    public init(maxSpareBytes: Int) {
        self.maxSpareBytes = maxSpareBytes
    }

    /// The bytes held by spare buffers (resident, waiting for the next image).
    public var spareBytes: Int { spare.withLock { $0.bytes } }

    /// The smallest spare buffer of at least `bytes`, or a new one.
    func take(atLeast bytes: Int) -> UnsafeMutableRawBufferPointer {
        let capacity = (max(bytes, 1) + Self.granule - 1) / Self.granule * Self.granule
        let reused: (address: UInt, capacity: Int)? = spare.withLock { spare in
            let fitting = spare.buffers.indices.filter { spare.buffers[$0].capacity >= capacity }
            guard let best = fitting.min(by: { spare.buffers[$0].capacity < spare.buffers[$1].capacity }) else { return nil }
            spare.bytes -= spare.buffers[best].capacity
            return spare.buffers.remove(at: best)
        }
        if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused.address) {
            return UnsafeMutableRawBufferPointer(start: pointer, count: reused.capacity)
        }
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, Self.alignment, capacity) == 0, let pointer else {
            fatalError("out of memory for a \(capacity)-byte image buffer")
        }
        return UnsafeMutableRawBufferPointer(start: pointer, count: capacity)
    }

    /// Keeps `buffer` for the next image, or frees it when enough are kept already.
    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        let kept = spare.withLock { spare in
            guard spare.bytes + buffer.count <= maxSpareBytes else { return false }
            spare.buffers.append((UInt(bitPattern: base), buffer.count))
            spare.bytes += buffer.count
            return true
        }
        if !kept { free(base) }
    }

    /// The first `count` bytes of `buffer` as `Data` without a copy; the buffer returns to the pool when the
    /// `Data` (and every copy of it) is released.
    func data(_ buffer: UnsafeMutableRawBufferPointer, count: Int) -> Data {
        guard let base = buffer.baseAddress else { return Data() }
        let capacity = buffer.count
        return Data(
            bytesNoCopy: base, count: count,
            deallocator: .custom { [self] pointer, _ in
                give(UnsafeMutableRawBufferPointer(start: pointer, count: capacity))
            })
    }
}

/// Where one value is decoded: a buffer from a `DecodeBufferPool` when it is large, a plain allocation when it is
/// small. A pooled buffer goes back to the pool unless it was handed on as `Data`, so an image abandoned
/// half-decoded (a failed read, an invalid value) does not leak its buffer.
final class DecodeBuffer {
    private(set) var bytes: UnsafeMutableRawBufferPointer
    private var pooled: Bool
    private let pool: DecodeBufferPool
    private var handedOn = false

    init(pool: DecodeBufferPool, atLeast count: Int) {
        self.pool = pool
        (bytes, pooled) = Self.allocate(count, from: pool)
    }

    /// Room for `count` bytes, keeping the first `keeping`: a larger buffer (twice as large at least) when short.
    func reserve(_ count: Int, keeping: Int) {
        guard count > bytes.count else { return }
        let (larger, largerPooled) = Self.allocate(max(bytes.count * 2, count), from: pool)
        larger.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<keeping]))
        release()
        (bytes, pooled) = (larger, largerPooled)
    }

    /// The first `count` bytes as `Data`: a pooled buffer becomes the `Data`'s own (no copy), a small one is copied.
    func handOn(count: Int) -> Data {
        guard pooled else { return Data(bytes: bytes.baseAddress!, count: count) }
        handedOn = true
        return pool.data(bytes, count: count)
    }

    deinit {
        if !handedOn { release() }
    }

    private func release() {
        if pooled { pool.give(bytes) } else { bytes.deallocate() }
    }

    private static func allocate(_ count: Int, from pool: DecodeBufferPool) -> (UnsafeMutableRawBufferPointer, Bool) {
        count >= DecodeBufferPool.minimumBytes
            ? (pool.take(atLeast: count), true)
            : (.allocate(byteCount: max(count, 64), alignment: 16), false)
    }
}
