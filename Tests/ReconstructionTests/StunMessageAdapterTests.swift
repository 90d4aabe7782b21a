import NetworkVocabulary
import Reconstruction
import StunWire
import Testing

/// The adapter reads attributes by their RFC 5389 role and the method by what it
/// does, so the MS-TURN and RFC 3489 numbering never reaches the trackers.
@Suite("StunMessage -> ObservedStunMessage")
struct StunMessageAdapterTests {
    static let classicID: [UInt8] = Array(0..<16)
    static let flow = FiveTuple(source: Endpoint("192.0.2.10:50000")!, destination: Endpoint("203.0.113.1:3478")!, transport: .udp)

    static func observe(_ bytes: [UInt8]) throws -> ObservedStunMessage {
        let message = try #require(bytes.withUnsafeBytes { StunMessage.parse($0) })
        return ObservedStunMessage(message, context: FrameContext(frame: 1, time: CaptureTime(nanoseconds: 0)), flow: flow,
                                   payloadHash: 0, payloadLength: bytes.count, carrier: nil)
    }

    @Test func msTurnSendSwapsRealmAndNonceAndNamesThePeer() throws {
        var b = StunMessageBuilder(type: StunMessageType(rawValue: 0x0004), transactionID: Self.classicID, padded: false)
        b.add(.magicCookie, uint32: StunHeader.msTurnMagicCookie)
        b.add(StunAttributeType(0x0014), string: "the-nonce")   // NONCE in MS-TURN
        b.add(StunAttributeType(0x0015), string: "the-realm")   // REALM in MS-TURN
        b.add(.destinationAddress, address: Endpoint("198.51.100.7:40000")!, xor: false)
        b.add(.data, [0x80, 0x60, 0, 1])
        let m = try Self.observe(b.bytes)
        #expect(m.method == .send)
        #expect(m.methodName == "Send")
        #expect(m.realm == "the-realm")
        #expect(m.nonce == "the-nonce")
        #expect(m.xorPeers == [Endpoint("198.51.100.7:40000")!])
        #expect(m.dataLength == 4)
    }

    @Test func rfc5389RefreshKeepsItsNumbering() throws {
        var b = StunMessageBuilder(type: StunMessageType(method: .refresh, messageClass: .request),
                                   transactionID: [UInt8](repeating: 5, count: 12))
        b.add(.realm, string: "example.org")
        b.add(.nonce, string: "n0nce")
        b.add(.lifetime, uint32: 0)
        let m = try Self.observe(b.bytes)
        #expect(m.method == .refresh)
        #expect(m.realm == "example.org")
        #expect(m.nonce == "n0nce")
        #expect(m.lifetime == 0)
    }

    @Test func classicRequestedAddressTypeIsNotARelayedAddress() throws {
        var b = StunMessageBuilder(type: StunMessageType(rawValue: 0x0003), transactionID: Self.classicID, padded: false)
        b.add(StunAttributeType(0x0016), uint32: 1)   // RFC 3489-era REQUESTED-ADDRESS-TYPE
        b.add(.username, string: "alice")
        let m = try Self.observe(b.bytes)
        #expect(m.method == .allocate)
        #expect(m.classic)
        #expect(m.xorRelayed.isEmpty)
        #expect(m.username == "alice")
    }

    @Test func firstAttributeOfARoleWins() throws {
        var b = StunMessageBuilder(type: StunMessageType(method: .binding, messageClass: .request),
                                   transactionID: [UInt8](repeating: 6, count: 12))
        b.add(.priority, [1, 2, 3])          // wrong length: an invalid value, still the first PRIORITY
        b.add(.priority, uint32: 99)
        b.add(.useCandidate, [])
        let m = try Self.observe(b.bytes)
        #expect(m.priority == nil)
        #expect(m.useCandidate)
        #expect(m.isIceCheck)
    }
}
