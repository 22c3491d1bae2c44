#if canImport(Glibc)
    import Glibc

    /// glibc's `mallopt` (declared in malloc.h, which the Glibc module does not export).
    @_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
    private let mmapThresholdParameter: Int32 = -3  // M_MMAP_THRESHOLD
    private let trimThresholdParameter: Int32 = -1  // M_TRIM_THRESHOLD
#endif

/// Process-wide allocator settings for a server that handles many multi-megabyte images.
public enum AllocatorTuning {
    /// Buffers of 1 MiB and more (decoded images, upload parts, libvips regions) are mapped on their own and
    /// returned to the system as soon as they are freed. glibc's default raises this threshold to the largest
    /// buffer freed so far, after which image buffers come from the heap and stay resident once freed: each job
    /// then appeared to cost its image twice (`bench/run.sh job-memory`: 13–14 MiB → 9.9 MiB peak per 1536×1024 job).
    /// Fixing it also fixes the trim threshold at glibc's default of 128 KiB: a heap whose free top exceeds that is
    /// handed back to the system, and the next socket reads (64 KiB buffers per read, a 3 MB answer is ~65 of them)
    /// fault the same pages in again: 4 % of the process's samples at 16 concurrent 3 MB requests. Up to 8 MiB
    /// of free heap top per arena is kept instead (smaller buffers only; image buffers are mapped, as above).
    /// `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` in the environment win, as glibc documents.
    public static func apply() {
        #if canImport(Glibc)
            if getenv("MALLOC_MMAP_THRESHOLD_") == nil { _ = mallopt(mmapThresholdParameter, 1 << 20) }
            if getenv("MALLOC_TRIM_THRESHOLD_") == nil { _ = mallopt(trimThresholdParameter, 8 << 20) }
        #endif
    }
}
