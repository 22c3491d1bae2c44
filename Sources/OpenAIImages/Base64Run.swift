/// The bulk of a base64 value decoded at speed: eight symbols at a time through a table of symbol pairs (two
/// lookups per four symbols, one 8-byte store per six decoded bytes), then four at a time. Stops at the first group
/// holding anything but plain symbols (padding, an escape, the closing quote, an invalid byte), which
/// `Base64FieldExtractor` then reads byte by byte.
enum Base64Run {
    static let invalid: UInt8 = 0xFF
    static let pad: UInt8 = 0xFE
    /// Symbol → its 6 bits; `pad` for "=", `invalid` for anything else.
    static let symbols: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (index, symbol) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(symbol)] = UInt8(index)
        }
        table[Int(UInt8(ascii: "="))] = pad
        return table
    }()
    /// Two symbols (the first in the low byte, as a little-endian load reads them) → their 12 bits; ≥ 4096 unless
    /// both are plain symbols.
    static let pairs: [UInt16] = {
        var table = [UInt16](repeating: 0xFFFF, count: 65_536)
        for first in 0..<256 where symbols[first] < 64 {
            for second in 0..<256 where symbols[second] < 64 {
                table[first | second << 8] = UInt16(symbols[first]) << 6 | UInt16(symbols[second])
            }
        }
        return table
    }()

    /// Decodes `input` from `start` into `output` from `written`; returns where each stopped. `output` must have
    /// room for `(input.count - start) / 4 * 3 + 2` bytes after `written` (the 8-byte stores write 2 bytes ahead).
    static func decode(
        _ input: UnsafeRawBufferPointer, from start: Int, into output: UnsafeMutableRawBufferPointer, at written: Int
    ) -> (index: Int, written: Int) {
        guard let source = input.baseAddress, let target = output.baseAddress else { return (start, written) }
        var index = start, written = written
        pairs.withUnsafeBufferPointer { pairs in
            while index + 8 <= input.count && written + 8 <= output.count {
                let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let a = UInt64(pairs[Int(truncatingIfNeeded: word & 0xFFFF)])
                let b = UInt64(pairs[Int(truncatingIfNeeded: word >> 16 & 0xFFFF)])
                let c = UInt64(pairs[Int(truncatingIfNeeded: word >> 32 & 0xFFFF)])
                let d = UInt64(pairs[Int(truncatingIfNeeded: word >> 48)])
                guard (a | b | c | d) < 4096 else { break }
                let value = a << 52 | b << 40 | c << 28 | d << 16  // 48 bits at the top, in order
                target.storeBytes(of: value.bigEndian, toByteOffset: written, as: UInt64.self)
                written += 6
                index += 8
            }
        }
        symbols.withUnsafeBufferPointer { table in
            while index + 4 <= input.count && written + 3 <= output.count {
                let a = table[Int(source.load(fromByteOffset: index, as: UInt8.self))]
                let b = table[Int(source.load(fromByteOffset: index + 1, as: UInt8.self))]
                let c = table[Int(source.load(fromByteOffset: index + 2, as: UInt8.self))]
                let d = table[Int(source.load(fromByteOffset: index + 3, as: UInt8.self))]
                guard (a | b | c | d) < 64 else { break }  // padding and invalid bytes map to `pad` / `invalid`
                let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                target.storeBytes(of: UInt8(truncatingIfNeeded: value >> 16), toByteOffset: written, as: UInt8.self)
                target.storeBytes(of: UInt8(truncatingIfNeeded: value >> 8), toByteOffset: written + 1, as: UInt8.self)
                target.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: written + 2, as: UInt8.self)
                written += 3
                index += 4
            }
        }
        return (index, written)
    }
}
