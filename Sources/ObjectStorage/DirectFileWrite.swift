#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Synchronization

/// Writes a large blob around the page cache (`O_DIRECT`): the kernel no longer copies its bytes into page-cache
/// pages it allocates for them (under 16 concurrent 3 MB images that copy was 17 % of the process's samples; the
/// disk reads the bytes from an aligned buffer instead). Bytes that start on a page boundary are written from where
/// they are; others go through 1 MiB aligned buffers reused across writes. The unaligned tail is written normally.
/// The caller still fsyncs and renames. Where the file system has no `O_DIRECT` (tmpfs) or refuses an aligned
/// write, the file is written normally: same bytes either way.
enum DirectFileWrite {
    static let minimumBytes = 256 << 10
    private static let alignment = 4096
    private static let bufferBytes = 1 << 20
    /// Addresses of aligned buffers not in use (at most one per concurrent writer).
    private static let spare = Mutex<[UInt]>([])
    /// Glibc's module does not export `O_DIRECT` (it needs `_GNU_SOURCE`); its value per architecture.
    #if arch(arm64) || arch(arm)
        private static let O_DIRECT: Int32 = 0o200000
    #else
        private static let O_DIRECT: Int32 = 0o40000
    #endif

    /// Writes `data` to the new file `path` (created, exclusive, 0644) and fsyncs it; on a failure the file is left
    /// for the caller to remove.
    static func write(_ data: Data, toNewFile path: String) throws {
        let direct = data.count >= minimumBytes
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0o644)
        if fd < 0, direct, errno == EINVAL { fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw POSIXError(errno) }
        defer { close(fd) }
        try data.withUnsafeBytes { bytes in
            var offset = direct ? try writeAligned(bytes, fd: fd) : 0
            if offset < bytes.count {
                // The tail (or all of it), through the page cache.
                let flags = fcntl(fd, F_GETFL)
                if flags & O_DIRECT != 0, fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0 { throw POSIXError(errno) }
                while offset < bytes.count {
                    let written = pwrite(fd, bytes.baseAddress! + offset, bytes.count - offset, off_t(offset))
                    guard written > 0 else { if written < 0 && errno == EINTR { continue }; throw POSIXError(errno) }
                    offset += written
                }
            }
        }
        guard fsync(fd) == 0 else { throw POSIXError(errno) }
    }

    /// Writes the whole aligned blocks of `bytes` with `O_DIRECT`; returns how many bytes it wrote (0 when the file
    /// is not open for it or the file system refused the first write). Bytes that start on a page boundary (images
    /// decoded into `DecodeBufferPool`'s buffers) are written from where they are; others are copied through a
    /// reused aligned buffer first.
    private static func writeAligned(_ bytes: UnsafeRawBufferPointer, fd: Int32) throws -> Int {
        guard fcntl(fd, F_GETFL) & O_DIRECT != 0, let source = bytes.baseAddress else { return 0 }
        let aligned = bytes.count / alignment * alignment
        if Int(bitPattern: source) % alignment == 0 {
            return try writeBlocks(from: source, count: aligned, at: 0, fd: fd) ? aligned : 0
        }
        let buffer = try take()
        defer { spare.withLock { $0.append(UInt(bitPattern: buffer)) } }
        var offset = 0
        while offset < aligned {
            let count = min(bufferBytes, aligned - offset)
            buffer.copyMemory(from: source + offset, byteCount: count)
            guard try writeBlocks(from: buffer, count: count, at: offset, fd: fd) else { return 0 }
            offset += count
        }
        return aligned
    }

    /// Writes `count` bytes (whole aligned blocks, from an aligned address) at `offset`; false when the file system
    /// refused the file's first `O_DIRECT` write (the caller then writes normally).
    private static func writeBlocks(from source: UnsafeRawPointer, count: Int, at offset: Int, fd: Int32) throws -> Bool {
        var done = 0
        while done < count {
            let written = pwrite(fd, source + done, count - done, off_t(offset + done))
            if written < 0 && errno == EINTR { continue }
            if written < 0 && errno == EINVAL && offset == 0 && done == 0 { return false }
            guard written > 0, written % alignment == 0 || done + written == count else {
                throw POSIXError(written < 0 ? errno : EIO)
            }
            done += written
        }
        return true
    }

    private static func take() throws -> UnsafeMutableRawPointer {
        if let address = spare.withLock({ $0.popLast() }), let buffer = UnsafeMutableRawPointer(bitPattern: address) {
            return buffer
        }
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, alignment, bufferBytes) == 0, let pointer else { throw POSIXError(ENOMEM) }
        return pointer
    }
}

extension POSIXError {
    init(_ code: Int32) { self.init(POSIXErrorCode(rawValue: code) ?? .EIO) }
}
