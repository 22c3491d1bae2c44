#if canImport(Glibc)
    import Glibc

    /// glibc's `mallopt` (declared in malloc.h, which the Glibc module does not export).
    @_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
    private let mmapThresholdParameter: Int32 = -3  // M_MMAP_THRESHOLD
#endif

/// Process-wide allocator settings for a server that handles many multi-megabyte images.
public enum AllocatorTuning {
    /// Buffers of 1 MiB and more (decoded images, upload parts, libvips regions) are mapped on their own and
    /// returned to the system as soon as they are freed. glibc's default raises this threshold to the largest
    /// buffer freed so far, after which image buffers come from the heap and stay resident once freed: each job
    /// then appeared to cost its image twice (`bench/run.sh job-memory`: 13–14 MiB → 9.9 MiB peak per 1536×1024 job).
    /// `MALLOC_MMAP_THRESHOLD_` in the environment wins, as glibc documents.
    public static func apply() {
        #if canImport(Glibc)
            guard getenv("MALLOC_MMAP_THRESHOLD_") == nil else { return }
            _ = mallopt(mmapThresholdParameter, 1 << 20)
        #endif
    }
}
