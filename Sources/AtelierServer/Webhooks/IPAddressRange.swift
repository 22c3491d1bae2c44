/// Classifies resolved addresses for outgoing webhooks: only globally routable unicast addresses are public.
/// IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`,
/// 6to4 `2002::/16`) are judged by that IPv4 address.
enum IPAddressRange {
    /// (prefix bytes, prefix length in bits) of IPv4 ranges that are not public.
    private static let blockedV4: [([UInt8], Int)] = [
        ([0, 0, 0, 0], 8), ([10, 0, 0, 0], 8), ([100, 64, 0, 0], 10), ([127, 0, 0, 0], 8), ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12), ([192, 0, 0, 0], 24), ([192, 0, 2, 0], 24), ([192, 88, 99, 0], 24),
        ([192, 168, 0, 0], 16), ([198, 18, 0, 0], 15), ([198, 51, 100, 0], 24), ([203, 0, 113, 0], 24),
        ([224, 0, 0, 0], 4), ([240, 0, 0, 0], 4),
    ]

    private static let blockedV6: [([UInt8], Int)] = [
        ([0x01, 0x00], 64),  // discard-only 100::/64
        ([0x20, 0x01, 0x00, 0x00], 32),  // Teredo (a tunnel to an unknown IPv4 host)
        ([0x20, 0x01, 0x0d, 0xb8], 32),  // documentation
        ([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48),  // local-use NAT64
        ([0xfc], 7),  // unique local
        ([0xfe, 0x80], 10),  // link-local
        ([0xfe, 0xc0], 10),  // site-local (deprecated)
        ([0xff], 8),  // multicast
    ]

    static func isPublic(_ address: [UInt8]) -> Bool {
        switch address.count {
        case 4:
            return !blockedV4.contains { matches(address, $0.0, bits: $0.1) }
        case 16:
            if let embedded = embeddedIPv4(address) { return isPublic(embedded) }
            if address.allSatisfy({ $0 == 0 }) || address == [UInt8](repeating: 0, count: 15) + [1] { return false }
            return !blockedV6.contains { matches(address, $0.0, bits: $0.1) }
        default:
            return false
        }
    }

    /// The IPv4 address inside an IPv6 address that carries one.
    static func embeddedIPv4(_ a: [UInt8]) -> [UInt8]? {
        let tail = Array(a[12..<16])
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xff && a[11] == 0xff { return tail }  // ::ffff:a.b.c.d
        if a[0..<12].allSatisfy({ $0 == 0 }) && !(tail[0] == 0 && tail[1] == 0 && tail[2] == 0) { return tail }  // ::a.b.c.d
        if a[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return tail }  // NAT64
        if a[0] == 0x20 && a[1] == 0x02 { return Array(a[2..<6]) }  // 6to4
        return nil
    }

    private static func matches(_ address: [UInt8], _ prefix: [UInt8], bits: Int) -> Bool {
        for bit in 0..<bits {
            let byte = bit / 8, mask = UInt8(0x80) >> UInt8(bit % 8)
            let want = byte < prefix.count ? prefix[byte] & mask : 0
            if address[byte] & mask != want { return false }
        }
        return true
    }

    /// Dotted IPv4 or colon-hex IPv6 (uncompressed groups are fine for messages and URLs).
    static func text(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: address.count, by: 2)
            .map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
