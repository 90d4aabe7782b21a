import Testing
@testable import PacketDecoding
import TestSupport

@Suite struct IPAddressTests {
    static func v6(_ groups: [UInt16]) -> IPAddress {
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(groups[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(groups[i]) }
        return .v6(hi, lo)
    }

    /// RFC 5952 section 4: leading zeros dropped, longest run of two or more zero
    /// groups compressed (the first of equal runs), a single zero group kept, lower case.
    @Test(arguments: [
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
        ([0x2001, 0x0db8, 0, 0, 0, 0, 2, 1], "2001:db8::2:1"),
        ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),            // 4.2.2: one zero group stays
        ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"),                        // 4.2.3: the longest run
        ([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),                // 4.2.3: first of equal runs
        ([0x2001, 0xDB8, 0xABCD, 0xEF, 0, 0, 0, 0xA], "2001:db8:abcd:ef::a"),   // 4.3: lower case
        ([0, 0, 0, 0, 0, 0, 0, 0], "::"),
        ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], "fe80::"),
        ([1, 2, 3, 4, 5, 6, 7, 8], "1:2:3:4:5:6:7:8"),
        ([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201], "::ffff:192.0.2.1"),           // 5: IPv4-mapped
        ([0xfd99, 0, 0, 0, 0, 0, 0, 2], "fd99::2"),
    ] as [([UInt16], String)])
    func formatsAsRFC5952(groups: [UInt16], text: String) {
        let a = IPAddressTests.v6(groups)
        #expect(a.description == text)
        #expect(IPAddress(text) == a)
    }

    @Test(arguments: [
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1::1", "2001:db8::1:0:0:1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
    ])
    func parsesEveryForm(text: String, canonical: String) {
        #expect(IPAddress(text)?.description == canonical)
    }

    @Test(arguments: ["1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "12345::", "1:2:3:4:5:6:7", "g::1",
                      "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "", "::ffff:1.2.3", "1:2:3:4:5:6:7:8::"])
    func rejectsMalformed(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func ipv4() {
        #expect(IPAddress.v4(0xc000_0201).description == "192.0.2.1")
        #expect(IPAddress("10.99.0.2") == .v4(0x0a63_0002))
        #expect(IPAddress.v4(1) < IPAddress.v6(0, 0))
    }

    @Test func randomAddressesRoundTrip() {
        var rng = SplitMix64(seed: 5952)
        for _ in 0..<5_000 {
            // Many zero groups, so compression cases are common.
            let groups = (0..<8).map { _ in rng.next() % 3 == 0 ? UInt16(truncatingIfNeeded: rng.next()) : 0 }
            let a = IPAddressTests.v6(groups)
            let text = a.description
            #expect(IPAddress(text) == a, "\(text)")
            #expect(!text.contains(":::"))
            #expect(text.components(separatedBy: "::").count <= 2)
        }
    }

    @Test func endpoints() {
        #expect(Endpoint("[2001:db8::1]:3478") == Endpoint(IPAddress("2001:db8::1")!, 3478))
        #expect(Endpoint("10.0.0.1:5")?.description == "10.0.0.1:5")
        #expect(Endpoint(IPAddress("2001:db8::1")!, 3478).description == "[2001:db8::1]:3478")
        #expect(Endpoint("2001:db8::1") == nil)  // an IPv6 endpoint needs brackets
    }
}
