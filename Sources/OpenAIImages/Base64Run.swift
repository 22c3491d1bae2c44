import CBase64

/// The bulk of a base64 value decoded at speed: 32 symbols at a time with AVX2 where the processor has it
/// (`CBase64`; bench/README, "Compatible route, CPU per request at 16 concurrent"), then sixteen, then eight symbols at a time through a
/// table of symbol pairs (two lookups per four symbols, one 8-byte store per six decoded bytes), then four at a
/// time. (Measured on 3 MB values, scalar: four 256-entry tables of pre-shifted bits are ~15 % slower, one 256-entry table ~75 % slower, and Swift's
/// `SIMD16<UInt8>` compiles to scalar code on the baseline x86-64 target, 100× slower.) Stops at the first group
/// holding anything but plain symbols (padding, an escape, the closing quote, an invalid byte), which
/// `Base64FieldExtractor` then reads byte by byte.
enum Base64Run {
    /// Whether the AVX2 blocks run on this processor.
    static let wideAvailable = atelier_base64_wide_available() != 0
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

    /// Whole blocks of 32 plain symbols with AVX2 (nothing without it): stops before a block holding anything else,
    /// before fewer than 32 symbols are left, or before `output` has fewer than 32 bytes of room after `written`.
    static func decodeBlocks(
        _ input: UnsafeRawBufferPointer, from start: Int, into output: UnsafeMutableRawBufferPointer, at written: Int
    ) -> (index: Int, written: Int) {
        guard wideAvailable, input.count - start >= 32, output.count - written >= 32,
            let source = input.baseAddress, let target = output.baseAddress
        else { return (start, written) }
        var consumed = 0, produced = 0
        atelier_base64_decode_blocks(
            source.advanced(by: start).assumingMemoryBound(to: UInt8.self), input.count - start,
            target.advanced(by: written).assumingMemoryBound(to: UInt8.self), output.count - written, &consumed, &produced)
        return (start + consumed, written + produced)
    }

    /// Decodes `input` from `start` into `output` from `written`; returns where each stopped. `output` must have
    /// room for `(input.count - start) / 4 * 3 + 2` bytes after `written` (the 8-byte stores write 2 bytes ahead).
    /// `wide: false` skips the AVX2 blocks (tests and the benchmark compare the two).
    static func decode(
        _ input: UnsafeRawBufferPointer, from start: Int, into output: UnsafeMutableRawBufferPointer, at written: Int,
        wide: Bool = true
    ) -> (index: Int, written: Int) {
        guard let source = input.baseAddress, let target = output.baseAddress else { return (start, written) }
        var index = start, written = written
        if wide { (index, written) = decodeBlocks(input, from: index, into: output, at: written) }
        pairs.withUnsafeBufferPointer { pairs in
            // Sixteen symbols a step (two loads, eight independent lookups, two overlapping stores): ~9 % faster
            // than eight a step on 3 MB values; eight a step then finishes a run that met its end or a bad group.
            while index + 16 <= input.count && written + 14 <= output.count {
                let low = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let high = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self))
                let a = UInt64(pairs[Int(truncatingIfNeeded: low & 0xFFFF)])
                let b = UInt64(pairs[Int(truncatingIfNeeded: low >> 16 & 0xFFFF)])
                let c = UInt64(pairs[Int(truncatingIfNeeded: low >> 32 & 0xFFFF)])
                let d = UInt64(pairs[Int(truncatingIfNeeded: low >> 48)])
                let e = UInt64(pairs[Int(truncatingIfNeeded: high & 0xFFFF)])
                let f = UInt64(pairs[Int(truncatingIfNeeded: high >> 16 & 0xFFFF)])
                let g = UInt64(pairs[Int(truncatingIfNeeded: high >> 32 & 0xFFFF)])
                let h = UInt64(pairs[Int(truncatingIfNeeded: high >> 48)])
                guard (a | b | c | d | e | f | g | h) < 4096 else { break }
                target.storeBytes(of: (a << 52 | b << 40 | c << 28 | d << 16).bigEndian, toByteOffset: written, as: UInt64.self)
                target.storeBytes(of: (e << 52 | f << 40 | g << 28 | h << 16).bigEndian, toByteOffset: written + 6, as: UInt64.self)
                written += 12
                index += 16
            }
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
