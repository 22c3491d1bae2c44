import Foundation
import Testing

@testable import OpenAIImages

/// The AVX2 blocks (`CBase64`) decode exactly what the scalar loops decode and stop where they stop: at the first
/// group holding padding, an escape, a quote or any byte outside the alphabet, wherever in a 32-symbol block it is.
@Suite struct Base64RunTests {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func decode(_ input: [UInt8], wide: Bool) -> (index: Int, written: Int, bytes: [UInt8]) {
        var output = [UInt8](repeating: 0, count: input.count / 4 * 3 + 2)
        let run = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { Base64Run.decode(source, from: 0, into: $0, at: 0, wide: wide) }
        }
        return (run.index, run.written, Array(output[..<run.written]))
    }

    @Test func wideBlocksAgreeWithTheScalarLoopsOnEveryByteAnywhere() {
        var generator = SystemRandomNumberGenerator()
        let outside = (0...255).map(UInt8.init).filter { !Self.alphabet.contains($0) }
        for length in [32, 33, 63, 64, 100, 128, 257] {
            var plain = (0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! }
            let whole = Self.decode(plain, wide: true)
            #expect(whole.index == Self.decode(plain, wide: false).index)
            #expect(whole.bytes == Self.decode(plain, wide: false).bytes, "\(length) plain symbols")
            #expect(Data(whole.bytes) == Data(base64Encoded: Data(plain[..<whole.index])), "\(length) plain symbols")
            for bad in outside {
                let position = Int.random(in: 0..<length, using: &generator)
                let kept = plain[position]
                plain[position] = bad
                let wide = Self.decode(plain, wide: true), scalar = Self.decode(plain, wide: false)
                #expect(wide.index == scalar.index && wide.index <= position, "byte \(bad) at \(position) of \(length)")
                #expect(wide.bytes == scalar.bytes, "byte \(bad) at \(position) of \(length)")
                plain[position] = kept
            }
        }
    }

    /// On a processor with AVX2 the blocks do decode (so the agreement above is not the scalar loops agreeing with
    /// themselves); without it they decode nothing and the scalar loops do it all.
    @Test func wideBlocksRunWhereTheProcessorHasThem() {
        let plain = (0..<4096).map { Self.alphabet[$0 * 7 % 64] }
        var output = [UInt8](repeating: 0, count: 1000)
        let run = plain.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { Base64Run.decodeBlocks(source, from: 0, into: $0, at: 0) }
        }
        // 41 blocks: the 42nd would store past the 1,000 bytes of room.
        #expect(run == (Base64Run.wideAvailable ? (1312, 984) : (0, 0)))
        if Base64Run.wideAvailable {
            #expect(Data(output[..<984]) == Data(base64Encoded: Data(plain[..<1312])))
        }
    }
}
