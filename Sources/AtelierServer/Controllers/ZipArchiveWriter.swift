import Foundation

/// Writes a ZIP archive with stored (uncompressed) entries: images are already compressed, so deflating
/// them again would cost time for nothing. Follows PKWARE APPNOTE 6.3 (local headers, central directory, end record).
struct ZipArchiveWriter {
    private var body = Data()
    private var central = Data()
    private var count: UInt16 = 0
    private var usedNames: Set<String> = []

    mutating func add(name: String, data: Data) {
        var name = name
        var suffix = 2
        while usedNames.contains(name) {
            name = "\(suffix)-\(name)"
            suffix += 1
        }
        usedNames.insert(name)
        let nameBytes = Data(name.utf8)
        let crc = CRC32.checksum(data)
        let offset = UInt32(body.count)
        var local = Data()
        local.append(le32: 0x0403_4b50)
        local.append(le16: 20); local.append(le16: 0x0800); local.append(le16: 0)  // version, UTF-8 names, stored
        local.append(le16: 0); local.append(le16: 0x21)  // time, date (1980-01-01)
        local.append(le32: crc); local.append(le32: UInt32(data.count)); local.append(le32: UInt32(data.count))
        local.append(le16: UInt16(nameBytes.count)); local.append(le16: 0)
        body.append(local); body.append(nameBytes); body.append(data)

        central.append(le32: 0x0201_4b50)
        central.append(le16: 20); central.append(le16: 20); central.append(le16: 0x0800); central.append(le16: 0)
        central.append(le16: 0); central.append(le16: 0x21)
        central.append(le32: crc); central.append(le32: UInt32(data.count)); central.append(le32: UInt32(data.count))
        central.append(le16: UInt16(nameBytes.count)); central.append(le16: 0); central.append(le16: 0)
        central.append(le16: 0); central.append(le16: 0); central.append(le32: 0); central.append(le32: offset)
        central.append(nameBytes)
        count += 1
    }

    mutating func finish() -> Data {
        var out = body
        out.append(central)
        out.append(le32: 0x0605_4b50)
        out.append(le16: 0); out.append(le16: 0); out.append(le16: count); out.append(le16: count)
        out.append(le32: UInt32(central.count)); out.append(le32: UInt32(body.count)); out.append(le16: 0)
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
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

extension Data {
    mutating func append(le16 value: UInt16) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    mutating func append(le32 value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
}
