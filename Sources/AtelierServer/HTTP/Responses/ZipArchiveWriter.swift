import Foundation

/// Writes a ZIP archive as a stream, one entry at a time: `add` returns the bytes of an entry (local header, name,
/// data) to send now, `finish` the central directory and end records, so the archive is never held whole (only
/// one entry's data and the small central directory). Entries are stored (images are already compressed).
/// ZIP64 records (PKWARE APPNOTE 6.3, 4.3.9–4.3.15 and 4.5.3) are written where a size, an offset or the entry
/// count does not fit the classic 32/16-bit fields.
struct ZipArchiveWriter {
    /// Bytes written so far (where the next local header starts).
    private(set) var offset: UInt64
    private var central = Data()
    private var count: UInt64 = 0
    private var usedNames: Set<String> = []

    /// `startingAt` lets record-level tests place entries past 4 GiB without writing 4 GiB.
    init(startingAt offset: UInt64 = 0) { self.offset = offset }

    static let max32 = UInt64(UInt32.max)

    mutating func add(name: String, data: Data) -> Data {
        var name = name
        var suffix = 2
        while usedNames.contains(name) {
            name = "\(suffix)-\(name)"
            suffix += 1
        }
        usedNames.insert(name)
        let nameBytes = Data(name.utf8)
        let crc = CRC32.checksum(data)
        let size = UInt64(data.count)
        let bigSize = size >= Self.max32, bigOffset = offset >= Self.max32
        var local = Data()
        local.append(le32: 0x0403_4b50)
        local.append(le16: bigSize ? 45 : 20); local.append(le16: 0x0800); local.append(le16: 0)  // version, UTF-8 names, stored
        local.append(le16: 0); local.append(le16: 0x21)  // time, date (1980-01-01)
        local.append(le32: crc)
        local.append(le32: bigSize ? UInt32.max : UInt32(size)); local.append(le32: bigSize ? UInt32.max : UInt32(size))
        local.append(le16: UInt16(nameBytes.count)); local.append(le16: bigSize ? 20 : 0)
        local.append(nameBytes)
        if bigSize {
            local.append(le16: 0x0001); local.append(le16: 16); local.append(le64: size); local.append(le64: size)
        }

        var extra = Data()
        if bigSize { extra.append(le64: size); extra.append(le64: size) }
        if bigOffset { extra.append(le64: offset) }
        central.append(le32: 0x0201_4b50)
        let version: UInt16 = bigSize || bigOffset ? 45 : 20
        central.append(le16: version); central.append(le16: version); central.append(le16: 0x0800); central.append(le16: 0)
        central.append(le16: 0); central.append(le16: 0x21)
        central.append(le32: crc)
        central.append(le32: bigSize ? UInt32.max : UInt32(size)); central.append(le32: bigSize ? UInt32.max : UInt32(size))
        central.append(le16: UInt16(nameBytes.count)); central.append(le16: extra.isEmpty ? 0 : UInt16(extra.count + 4))
        central.append(le16: 0); central.append(le16: 0); central.append(le16: 0); central.append(le32: 0)
        central.append(le32: bigOffset ? UInt32.max : UInt32(offset))
        central.append(nameBytes)
        if !extra.isEmpty { central.append(le16: 0x0001); central.append(le16: UInt16(extra.count)); central.append(extra) }
        count += 1
        offset += UInt64(local.count) + size
        var out = local
        out.append(data)
        return out
    }

    /// The central directory and end records (ZIP64 ones first when needed).
    func finish() -> Data {
        var out = central
        let centralStart = offset, centralSize = UInt64(central.count)
        let zip64 = count >= 0xFFFF || centralStart >= Self.max32 || centralSize >= Self.max32
        if zip64 {
            let recordStart = centralStart + centralSize
            out.append(le32: 0x0606_4b50); out.append(le64: 44)  // ZIP64 end of central directory, size after this field
            out.append(le16: 45); out.append(le16: 45); out.append(le32: 0); out.append(le32: 0)
            out.append(le64: count); out.append(le64: count); out.append(le64: centralSize); out.append(le64: centralStart)
            out.append(le32: 0x0706_4b50); out.append(le32: 0); out.append(le64: recordStart); out.append(le32: 1)  // locator
        }
        out.append(le32: 0x0605_4b50)
        out.append(le16: 0); out.append(le16: 0)
        let shortCount = zip64 ? UInt16.max : UInt16(count)
        out.append(le16: shortCount); out.append(le16: shortCount)
        out.append(le32: zip64 ? UInt32.max : UInt32(centralSize)); out.append(le32: zip64 ? UInt32.max : UInt32(centralStart))
        out.append(le16: 0)
        return out
    }
}

enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        data.withUnsafeBytes { bytes in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }
}

extension Data {
    mutating func append(le16 value: UInt16) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    mutating func append(le32 value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    mutating func append(le64 value: UInt64) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
}
