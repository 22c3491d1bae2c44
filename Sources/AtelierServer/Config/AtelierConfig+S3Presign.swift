import ObjectStorage

extension AtelierConfig {
    /// The lifetime of presigned image URLs: `S3_PRESIGN=true` turns them on, `S3_PRESIGN_SECONDS` (default 300,
    /// 1 … 604800, S3's limit) sets how long one stays valid. nil = images are served through Atelier.
    static func presignSeconds(_ env: [String: String], problems: inout [String]) -> Int? {
        switch env["S3_PRESIGN"]?.lowercased() ?? "" {
        case "", "false", "0", "no", "off": return nil
        case "true", "1", "yes", "on": break
        default:
            problems.append("S3_PRESIGN=\(env["S3_PRESIGN"] ?? "") must be true or false")
            return nil
        }
        guard let raw = env["S3_PRESIGN_SECONDS"], !raw.isEmpty else { return 300 }
        guard let seconds = Int(raw), (1...SigV4Signer.maxPresignSeconds).contains(seconds) else {
            problems.append("S3_PRESIGN_SECONDS=\(raw) must be a whole number of seconds from 1 to \(SigV4Signer.maxPresignSeconds)")
            return nil
        }
        return seconds
    }
}
