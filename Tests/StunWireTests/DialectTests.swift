import NetworkVocabulary
import Testing
@testable import StunWire

@Suite("Classic RFC 3489 and MS-TURN")
struct DialectTests {
    static let classicID: [UInt8] = Array(0..<16)

    @Test func classicBindingWithChangeRequest() throws {
        var b = StunMessageBuilder(type: StunMessageType(rawValue: 0x0001), transactionID: Self.classicID)
        b.add(.changeRequest, [0, 0, 0, 4])
        let m = try #require(parse(b.bytes))
        #expect(m.isClassic)
        #expect(m.dialect == .classic)
        #expect(m.transactionID.hex == "000102030405060708090a0b0c0d0e0f")
        #expect(m.first(.changeRequest)?.value == .changeRequest(changeIP: true, changePort: false))
    }

    @Test func classicResponseAddressesAreNotXored() throws {
        var b = StunMessageBuilder(type: StunMessageType(rawValue: 0x0101), transactionID: Self.classicID)
        b.add(.mappedAddress, address: Endpoint("203.0.113.2:40000")!, xor: false)
        b.add(.sourceAddress, address: Endpoint("203.0.113.20:3478")!, xor: false)
        b.add(.changedAddress, address: Endpoint("203.0.113.21:3479")!, xor: false)
        let m = try #require(parse(b.bytes))
        #expect(m.attributes.map(\.address) == [Endpoint("203.0.113.2:40000"), Endpoint("203.0.113.20:3478"), Endpoint("203.0.113.21:3479")])
    }

    @Test func cooklessUnknownTypeIsNotStun() {
        // 0x0011 (Binding indication) did not exist in RFC 3489: without a cookie it is not believed.
        let b = StunMessageBuilder(type: StunMessageType(rawValue: 0x0011), transactionID: Self.classicID)
        #expect(parse(b.bytes) == nil)
        // Nor is a known type whose attributes do not tile the message.
        var bytes = StunMessageBuilder(type: StunMessageType(rawValue: 0x0001), transactionID: Self.classicID).bytes
        bytes += [0x00, 0x03, 0x00, 0x08, 0, 0, 0, 0]
        bytes[3] = 8
        #expect(parse(bytes) == nil)
    }

    @Test func msTurnDataIndication() throws {
        // MS-TURN: MAGIC-COOKIE first, unpadded values, 0x0012 REMOTE-ADDRESS not XORed, 0x0115 = Data indication.
        var b = StunMessageBuilder(type: StunMessageType(rawValue: 0x0115), transactionID: Self.classicID, padded: false)
        b.add(.magicCookie, uint32: StunHeader.msTurnMagicCookie)
        b.add(StunAttributeType(0x0012), address: Endpoint("93.71.110.205:16332")!, xor: false)
        b.add(StunAttributeType(0x0014), Array("abcde".utf8))
        b.add(StunAttributeType(0x0015), Array("realm".utf8))
        b.add(.data, [0x80, 0x00, 0x00])
        let m = try #require(parse(b.bytes))
        #expect(m.dialect == .msTurn)
        #expect(m.methodName == "Data")
        #expect(m.messageClass == .indication)
        #expect(m.first(named: "REMOTE-ADDRESS")?.address == Endpoint("93.71.110.205:16332"))
        #expect(m.peerAddresses == [Endpoint("93.71.110.205:16332")!])
        #expect(m.nonce == "abcde")
        #expect(m.realm == "realm")
        #expect(m.data?.length == 3)
        #expect(m.isTURN)
    }

    @Test func msTurnWithCookieAndUnpaddedErrorReason() throws {
        var b = StunMessageBuilder(type: StunMessageType(rawValue: 0x0113), transactionID: AttributeDecodingTests.tid, padded: false)
        b.add(.magicCookie, uint32: StunHeader.msTurnMagicCookie)
        b.addErrorCode(401, reason: "odd length!")
        b.add(.msVersion, uint32: 6)
        let m = try #require(parse(b.bytes))
        #expect(!m.isClassic)
        #expect(m.dialect == .msTurn)
        #expect(m.errorCode == 401)
        #expect(m.first(.msVersion)?.unsigned == 6)
    }
}
