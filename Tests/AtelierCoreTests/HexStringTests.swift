import Foundation
import Testing

import AtelierCore

@Suite struct HexStringTests {
    @Test func everyByteIsTwoLowerCaseDigitsAsStringFormatWritesThem() {
        let bytes = (0...255).map(UInt8.init)
        #expect(bytes.hexString == bytes.map { String(format: "%02x", $0) }.joined())
        #expect([UInt8]().hexString == "")
    }
}
