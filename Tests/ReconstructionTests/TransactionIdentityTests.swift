import Testing
@testable import Reconstruction

@Suite("TransactionIdentity from its text")
struct TransactionIdentityTests {
    /// Every identity's text reads back as that identity (the end-of-run findings look the kept
    /// transactions' ids up this way), for RFC 5389 ids (cookie in the key) and classic ones.
    @Test func hexReadsBackAsTheSameIdentity() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let low = UInt64.random(in: .min ... .max, using: &generator)
            let top = UInt64.random(in: .min ... .max, using: &generator)
            let modern = TransactionIdentity(key: TransactionKeyBits(high: 0x2112_A442_0000_0000 | (top & 0xFFFF_FFFF), low: low), classic: false)
            let classic = TransactionIdentity(key: TransactionKeyBits(high: top, low: low), classic: true)
            for id in [modern, classic] {
                #expect(id.hex.count == (id.classic ? 32 : 24))
                #expect(TransactionIdentity(hex: id.hex) == id)
                #expect(TransactionIdentity(hex: id.hex.uppercased()) == id)
            }
        }
    }

    @Test(arguments: ["", "0123", "0x0123456789abcdef01234567", "0123456789abcdef0123456g",
                      "0123456789abcdef0123456789abcdef0", "0123456789abcdef01234567 "])
    func otherTextIsNoIdentity(text: String) {
        #expect(TransactionIdentity(hex: text) == nil)
    }
}
