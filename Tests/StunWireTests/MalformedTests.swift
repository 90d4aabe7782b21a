import Testing
@testable import StunWire

@Suite("Malformed STUN")
struct MalformedTests {
    func request() -> [UInt8] {
        var b = StunMessageBuilder(type: StunMessageType(method: .binding, messageClass: .request),
                                   transactionID: AttributeDecodingTests.tid)
        b.add(.username, string: "user:name")
        b.add(.priority, uint32: 5)
        b.addFingerprint()
        return b.bytes
    }

    @Test func lengthFieldLongerThanDatagram() throws {
        let cut = Array(request().dropLast(6))
        let m = try #require(parse(cut))
        #expect(m.malformation?.hasPrefix("truncated") == true)
        #expect(m.username == "user:name")
        #expect(m.transactionID.hex == "b7e7a701bc34d686fa87dfae")
    }

    @Test func trailingBytes() throws {
        let m = try #require(parse(request() + [0, 0, 0, 0]))
        #expect(m.malformation == "4 bytes follow the end of the message")
    }

    @Test func attributeLengthOverrunsMessage() throws {
        // zeek-spicy-stun/stun-attribute-length-ffff.pcap: an attribute claiming 0xFFFF bytes.
        let bytes = hexBytes("""
            01 01 00 0c 21 12 a4 42 53 4f 70 43 69 69 35 4a 66 63 31 7a
            00 01 ff ff 00 01 11 fc 46 c7 80 2e
            """)
        let m = try #require(parse(bytes))
        #expect(m.malformation == "attribute 0x0001 at offset 20 claims 65535 bytes, 8 remain")
        #expect(m.attributes.isEmpty)
    }

    @Test func damagedErrorCodeThenGarbage() throws {
        // zeek-spicy-stun/stun-malformed-error.pcap: ERROR-CODE of length 3, then the reason text.
        let bytes = hexBytes("""
            01 11 00 34 21 12 a4 42 e7 f0 2b 9c 4f 87 d5 59 61 04 a2 fc
            00 09 00 03 00 00 05 00 53 45 52 56 45 52 20 45 52 52 4f 52
            00 08 00 14 f7 f5 44 c1 69 4a 3e 93 f8 db 14 5a 1b 6a 88 9e f4 88 cc 6d
            80 28 00 04 b7 58 6f 5e
            """)
        let m = try #require(parse(bytes))
        #expect(m.malformation?.contains("0x5345") == true)
        #expect(m.attributes.count == 1)
        guard case .invalid = m.attributes[0].value else {
            Issue.record("short ERROR-CODE should be invalid")
            return
        }
    }

    @Test func prefixOfAQuotedMessage() throws {
        let bytes = request()
        let quoted = Array(bytes.prefix(28))
        let view = try #require(quoted.withUnsafeBytes { StunMessageView.recognizePrefix($0).map(StunMessage.init) })
        #expect(view.malformation?.hasPrefix("truncated") == true)
        #expect(view.type.rawValue == 0x0001)
        #expect(quoted.withUnsafeBytes { StunMessageView.recognizePrefix(UnsafeRawBufferPointer(rebasing: $0[0..<19])) } == nil)
    }

    @Test func notStun() {
        #expect(parse([]) == nil)
        #expect(parse([0, 1, 0, 0]) == nil)
        #expect(parse([0x80] + [UInt8](repeating: 0, count: 40)) == nil)
        // A DTLS ClientHello-like record.
        #expect(parse([0x16, 0xfe, 0xfd] + [UInt8](repeating: 1, count: 60)) == nil)
    }
}
