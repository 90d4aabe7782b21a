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
        #expect(m.methodMeaning == .data)
        // The RFC 5389 roles of the draft attributes: REMOTE-ADDRESS is the peer, 0x0014 NONCE, 0x0015 REALM.
        #expect(m.attributes.map { $0.type.standard(in: m.dialect) } == [.magicCookie, .xorPeerAddress, .nonce, .realm, .data])
    }

    @Test func methodMeaningFollowsTheDialect() {
        // RFC 5766 gave 0x004 to Refresh and moved Send/Data to 0x006/0x007; the drafts
        // RFC 3489 stacks and MS-TURN speak keep Send 0x004, Data 0x005, SetActiveDestination 0x006.
        let unknown = { StunMethodMeaning.unknown(StunMethod(rawValue: $0)) }
        let table: [(UInt16, rfc: StunMethodMeaning, drafts: StunMethodMeaning)] = [
            (0x001, .binding, .binding), (0x002, .sharedSecret, .sharedSecret), (0x003, .allocate, .allocate),
            (0x004, .refresh, .send), (0x005, unknown(0x005), .data), (0x006, .send, .setActiveDestination),
            (0x007, .data, unknown(0x007)), (0x008, .createPermission, unknown(0x008)),
            (0x009, .channelBind, unknown(0x009)), (0x00A, .connect, unknown(0x00A)),
            (0x00B, .connectionBind, unknown(0x00B)), (0x00C, .connectionAttempt, unknown(0x00C)),
            (0x080, .googPing, unknown(0x080)), (0x200, unknown(0x200), unknown(0x200)),
        ]
        for (raw, rfc, drafts) in table {
            let method = StunMethod(rawValue: raw)
            #expect(method.meaning(in: .rfc5389) == rfc)
            #expect(method.meaning(in: .classic) == drafts)
            #expect(method.meaning(in: .msTurn) == drafts)
        }
        #expect(StunMethodMeaning.setActiveDestination.name == "SetActiveDestination")
        #expect(StunMethodMeaning.setActiveDestination.isTURN)
        #expect(unknown(0x005).name == "0x005")
        #expect(!unknown(0x008).isTURN)
        #expect(StunMethod.refresh.name == "Refresh")
    }

    @Test func msTurnSendAndSetActiveDestination() throws {
        var send = StunMessageBuilder(type: StunMessageType(rawValue: 0x0004), transactionID: Self.classicID, padded: false)
        send.add(.magicCookie, uint32: StunHeader.msTurnMagicCookie)
        send.add(.destinationAddress, address: Endpoint("93.71.110.205:16332")!, xor: false)
        send.add(.data, [0x00, 0x01, 0x00, 0x00])
        let m = try #require(parse(send.bytes))
        #expect(m.dialect == .msTurn)
        #expect(m.methodMeaning == .send)
        #expect(m.methodName == "Send")
        #expect(m.attributes.map { $0.type.standard(in: m.dialect) } == [.magicCookie, .destinationAddress, .data])

        var active = StunMessageBuilder(type: StunMessageType(rawValue: 0x0006), transactionID: Self.classicID, padded: false)
        active.add(.magicCookie, uint32: StunHeader.msTurnMagicCookie)
        let a = try #require(parse(active.bytes))
        #expect(a.methodMeaning == .setActiveDestination)
        #expect(a.methodName == "SetActiveDestination")
        #expect(a.isTURN)
    }

    @Test func attributeRolesInRFCNumbering() {
        for dialect in [StunDialect.classic, .msTurn] {
            #expect(StunAttributeType.realm.standard(in: dialect) == .nonce)
            #expect(StunAttributeType.nonce.standard(in: dialect) == .realm)
            #expect(StunAttributeType.xorPeerAddress.standard(in: dialect) == .xorPeerAddress)   // REMOTE-ADDRESS
            #expect(StunAttributeType.username.standard(in: dialect) == .username)
        }
        // RFC 3489's REQUESTED-ADDRESS-TYPE and XOR-ONLY have no RFC 5389 counterpart.
        #expect(StunAttributeType.xorRelayedAddress.standard(in: .classic) == nil)
        #expect(StunAttributeType.timerVal.standard(in: .classic) == nil)
        #expect(StunAttributeType.xorRelayedAddress.standard(in: .msTurn) == .xorRelayedAddress)
        #expect(StunAttributeType.timerVal.standard(in: .msTurn) == .timerVal)
        // standard(in:) and meaning(in:) describe the same drafts: a type the dialect renames plays the
        // RFC role of that name (REMOTE-ADDRESS: the peer, XOR-ed since RFC 5766), or none for the
        // names RFC 5389 dropped.
        var mismatches: [String] = []
        for dialect in [StunDialect.classic, .msTurn] {
            for raw in UInt16.min...UInt16.max {
                let type = StunAttributeType(raw)
                let name = type.meaning(in: dialect).name
                let role = type.standard(in: dialect)
                let consistent = role.map { name == "REMOTE-ADDRESS" ? $0 == .xorPeerAddress : $0.meaning(in: .rfc5389).name == name }
                    ?? ["REQUESTED-ADDRESS-TYPE", "XOR-ONLY"].contains(name)
                if !consistent { mismatches.append("\(dialect) \(type) \(name)") }
            }
        }
        #expect(mismatches.isEmpty)
        // Under RFC 5389 every type is its own role, registered or not.
        for raw in [UInt16(0x0001), 0x0012, 0x0014, 0x0015, 0x0016, 0x0021, 0x8022, 0xC001, 0x7777] {
            #expect(StunAttributeType(raw).standard(in: .rfc5389) == StunAttributeType(raw))
        }
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
