import NetworkVocabulary
import Testing
@testable import StunWire

@Suite("Attribute values")
struct AttributeDecodingTests {
    static let tid: [UInt8] = [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae]

    func builder(_ method: StunMethod = .allocate, _ cls: StunMessageClass = .success) -> StunMessageBuilder {
        StunMessageBuilder(type: StunMessageType(method: method, messageClass: cls), transactionID: Self.tid)
    }

    func only(_ b: StunMessageBuilder) throws -> StunAttribute {
        let message = try #require(parse(b.bytes))
        #expect(message.malformation == nil)
        return try #require(message.attributes.first)
    }

    @Test func xorAddressesIPv4AndIPv6() throws {
        var b = builder()
        b.add(.xorRelayedAddress, address: Endpoint("198.51.100.11:54990")!, xor: true)
        b.add(.xorRelayedAddress, address: Endpoint("[2001:db8:51::11]:61000")!, xor: true)
        b.add(.xorPeerAddress, address: Endpoint("[::ffff:10.0.0.1]:9")!, xor: true)
        b.add(.xorMappedAddress, address: Endpoint("203.0.113.2:40000")!, xor: true)
        b.add(.mappedAddress, address: Endpoint("203.0.113.2:40000")!, xor: false)
        b.add(.otherAddress, address: Endpoint("[2001:db8::2]:3479")!, xor: false)
        let message = try #require(parse(b.bytes))
        #expect(message.xorRelayedAddresses == [Endpoint("198.51.100.11:54990")!, Endpoint("[2001:db8:51::11]:61000")!])
        #expect(message.peerAddresses == [Endpoint("[::ffff:10.0.0.1]:9")!])
        #expect(message.xorMappedAddress == Endpoint("203.0.113.2:40000"))
        #expect(message.mappedAddress == Endpoint("203.0.113.2:40000"))
        #expect(message.first(named: "OTHER-ADDRESS")?.address == Endpoint("[2001:db8::2]:3479"))
        // The XOR really happened on the wire: the raw port differs from the real one.
        #expect(b.bytes[26] != UInt8(54990 >> 8))
    }

    @Test func numbersOfEveryWidth() throws {
        var b = builder(.allocate, .request)
        b.add(.requestedTransport, [17, 0, 0, 0])
        b.add(.requestedAddressFamily, [2, 0, 0, 0])
        b.add(.lifetime, uint32: 600)
        b.add(.channelNumber, [0x40, 0x01, 0, 0])
        b.add(.priority, uint32: 0x6e0001ff)
        b.add(.iceControlling, uint64: 0x0123_4567_89ab_cdef)
        b.add(.responsePort, [0x0d, 0x96, 0, 0])
        b.add(.nomination, uint32: 7)
        let m = try #require(parse(b.bytes))
        #expect(m.requestedTransport == 17)
        #expect(m.first(named: "REQUESTED-ADDRESS-FAMILY")?.unsigned == 2)
        #expect(m.lifetime == 600)
        #expect(m.channelNumber == 0x4001)
        #expect(m.priority == 0x6e0001ff)
        #expect(m.iceControlling == 0x0123_4567_89ab_cdef)
        #expect(m.nomination == 7)
        // RFC 5780: RESPONSE-PORT is a port, not the draft's XOR-RESPONSE-TARGET address.
        let responsePort = try #require(m.first(.responsePort))
        #expect(responsePort.name == "RESPONSE-PORT")
        #expect(responsePort.value == .unsigned(3478))
    }

    @Test func stringsAndErrors() throws {
        var b = builder(.allocate, .error)
        b.addErrorCode(438, reason: "Stale Nonce")
        b.add(.realm, string: "example.org")
        b.add(.nonce, string: "f//499k954d6OL34oL9FSTvy64sA")
        b.add(.software, string: "Coturn-4.6.1 'Gorst'")
        b.add(.unknownAttributes, [0x00, 0x1a, 0x80, 0x2f])
        let m = try #require(parse(b.bytes))
        #expect(m.errorCode == 438)
        #expect(m.errorReason == "Stale Nonce")
        #expect(m.realm == "example.org")
        #expect(m.nonce == "f//499k954d6OL34oL9FSTvy64sA")
        #expect(m.software == "Coturn-4.6.1 'Gorst'")
        #expect(m.first(.unknownAttributes)?.value == .unsigned16List([0x001a, 0x802f]))
    }

    /// Not UTF-8 (MS-TURN's binary USERNAME): kept as the bytes, not a lossy string.
    @Test func invalidUTF8IsKeptAsBytesNotFatal() throws {
        var b = builder(.binding, .request)
        b.add(.username, [0x61, 0xff, 0x1b, 0x5b, 0x33, 0x31, 0x6d])
        let a = try only(b)
        #expect(a.value == .bytes([0x61, 0xff, 0x1b, 0x5b, 0x33, 0x31, 0x6d]))
        #expect(a.string == nil)
    }

    @Test func validUTF8WithControlsStaysText() throws {
        var b = builder(.binding, .request)
        b.add(.username, [0x61, 0x1b, 0x5b, 0x33, 0x31, 0x6d])
        let a = try only(b)
        #expect(a.string == "a\u{1b}[31m")
    }

    @Test func flagsAndStructuredValues() throws {
        var b = builder(.binding, .request)
        b.add(.changeRequest, [0, 0, 0, 6])
        b.add(.evenPort, [0x80])
        b.add(.useCandidate, [])
        b.add(.dontFragment, [])
        b.add(.googNetworkInfo, [0x00, 0x01, 0x03, 0xe7])
        b.add(.transactionTransmitCounter, [0, 0, 2, 1])
        b.add(.icmp, [0, 0, 3, 3, 0, 0, 0, 0])
        b.add(.passwordAlgorithms, [0, 2, 0, 0, 0, 1, 0, 0])
        b.add(.addressErrorCode, [2, 0, 4, 40] + Array("Address Family not Supported".utf8))
        b.add(.data, [0x80, 0xc8, 0, 1])
        b.add(.reservationToken, [1, 2, 3, 4, 5, 6, 7, 8])
        b.add(StunAttributeType(0xfe01), [9, 9])
        let m = try #require(parse(b.bytes))
        let values = m.attributes.map(\.value)
        #expect(values[0] == .changeRequest(changeIP: true, changePort: true))
        #expect(values[1] == .evenPort(reserveNext: true))
        #expect(values[2] == .empty)
        #expect(m.useCandidate)
        #expect(values[3] == .empty)
        #expect(values[4] == .networkInfo(networkID: 1, cost: 999))
        #expect(values[5] == .transmitCounter(request: 2, response: 1))
        #expect(values[6] == .icmp(type: 3, code: 3, errorData: 0))
        #expect(values[7] == .passwordAlgorithms([2, 1]))
        #expect(values[8] == .addressErrorCode(family: 2, code: 440, reason: "Address Family not Supported"))
        guard case let .data(summary) = values[9] else { Issue.record("DATA not decoded"); return }
        #expect(summary.length == 4)
        #expect(summary.payloadClass == .rtcp)
        #expect(m.data == summary)
        #expect(values[10] == .bytes([1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(values[11] == .bytes([9, 9]))
        #expect(m.attributes[11].name == "UNKNOWN")
    }

    @Test func valuesThatDoNotFitTheirLayoutAreInvalid() throws {
        var b = builder(.binding, .error)
        b.add(.errorCode, [0, 0, 5])
        b.add(.xorMappedAddress, [0, 3, 0, 0, 0, 0, 0, 0])
        b.add(.lifetime, [0, 0])
        b.add(.mappedAddress, [0, 2, 0, 80, 1, 2, 3, 4])
        let m = try #require(parse(b.bytes))
        #expect(m.malformation == nil)
        for attribute in m.attributes {
            guard case .invalid = attribute.value else {
                Issue.record("\(attribute.name) should be invalid, is \(attribute.value)")
                continue
            }
        }
        #expect(m.errorCode == nil)
    }

    @Test func methodsClassesAndNames() {
        let methods: [(StunMethod, String)] = [
            (.binding, "Binding"), (.sharedSecret, "SharedSecret"), (.allocate, "Allocate"), (.refresh, "Refresh"),
            (.send, "Send"), (.data, "Data"), (.createPermission, "CreatePermission"), (.channelBind, "ChannelBind"),
            (.connect, "Connect"), (.connectionBind, "ConnectionBind"), (.connectionAttempt, "ConnectionAttempt"),
            (.googPing, "GOOG-PING"), (StunMethod(rawValue: 0x200), "0x200"),
        ]
        for (method, name) in methods {
            #expect(method.name == name)
            for cls in StunMessageClass.allCases {
                let type = StunMessageType(method: method, messageClass: cls)
                #expect(type.method == method)
                #expect(type.messageClass == cls)
                #expect(type.rawValue & 0xC000 == 0)
            }
        }
        #expect(StunMessageType(method: .binding, messageClass: .success).rawValue == 0x0101)
        #expect(StunMessageType(method: .allocate, messageClass: .error).rawValue == 0x0113)
        #expect(StunMessageType(method: .send, messageClass: .indication).rawValue == 0x0016)
        #expect(StunMessageType(method: .data, messageClass: .indication).rawValue == 0x0017)
        #expect(StunMessageType(rawValue: 0x0800).method.rawValue == 0x200)
    }

    @Test func whatsAppMethodAbove0xFFIsKept() throws {
        var b = StunMessageBuilder(type: StunMessageType(rawValue: 0x0801), transactionID: Self.tid)
        b.add(StunAttributeType(0x4000), [1, 2, 3, 4, 5])
        let m = try #require(parse(b.bytes))
        #expect(m.methodName == "0x201")
        #expect(m.type.rawValue == 0x0801)
    }

    @Test func messageIntegritySHA256WithPasswordAlgorithm() throws {
        var b = builder(.allocate, .request)
        b.add(.username, string: "alice")
        b.add(.realm, string: "example.org")
        b.add(.passwordAlgorithm, [0, 2, 0, 0])
        b.addMessageIntegritySHA256(key: .longTerm(user: "alice", realm: "example.org", password: "secret", sha256: true))
        b.addFingerprint()
        let store = try CredentialStore(parsing: "alice:example.org:secret")
        let m = try #require(parseVerifying(b.bytes, IntegrityVerifier(credentials: store)))
        #expect(m.integrity == .valid)
        #expect(m.fingerprint == .valid)
        let wrong = try CredentialStore(parsing: "alice:example.org:guess")
        #expect(parseVerifying(b.bytes, IntegrityVerifier(credentials: wrong))?.integrity == .invalid)
    }

    @Test func userhashSelectsTheCredential() throws {
        let store = try CredentialStore(parsing: "alice:example.org:secret")
        let userhash = store.longTerm[0].userhash
        var b = builder(.allocate, .request)
        b.add(.userhash, userhash)
        b.add(.realm, string: "example.org")
        b.addMessageIntegrity(key: .longTerm(user: "alice", realm: "example.org", password: "secret"))
        #expect(parseVerifying(b.bytes, IntegrityVerifier(credentials: store))?.integrity == .valid)
    }

    @Test func iceShortTermUsesTheReceiversPassword() throws {
        var b = builder(.binding, .request)
        b.add(.username, string: "remote:local")
        b.add(.priority, uint32: 1)
        b.addMessageIntegrity(key: .shortTerm(password: "remote-pwd"))
        b.addFingerprint()
        let store = try CredentialStore(parsing: "local:local-pwd\nremote:remote-pwd\n")
        #expect(parseVerifying(b.bytes, IntegrityVerifier(credentials: store))?.integrity == .valid)
        let onlySender = try CredentialStore(parsing: "local:local-pwd\n")
        #expect(parseVerifying(b.bytes, IntegrityVerifier(credentials: onlySender))?.integrity == .unchecked)
    }
}

