import NetworkVocabulary
import PacketDecoding
import Testing
@testable import StunWire
import TestSupport

/// parse∘emit: `StunMessage(view)` and `StunMessage.emit` are inverses.
/// Bytes in canonical form come back byte for byte; a message written from
/// values parses back to those values.
@Suite("Parse and emit round trip")
struct RoundTripTests {
    /// The DATA attribute's bytes, which `StunMessage` summarises rather than keeps.
    func dataValue(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBytes { raw in
            StunMessageView.recognize(raw)?.firstValue(of: .data).map { Array($0) }
        }
    }

    /// `emit(parse(bytes))`.
    func reemitted(_ bytes: [UInt8], integrityKey: StunKey? = nil) throws -> [UInt8] {
        let message = try #require(parse(bytes))
        return try message.emitted(data: dataValue(bytes), integrityKey: integrityKey)
    }

    /// The message without what a parse finds out about it (checks, damage)
    /// and without FINGERPRINT's value, which `emit` recomputes.
    func representation(_ message: StunMessage) -> StunMessage {
        var plain = message
        plain.fingerprint = nil
        plain.integrity = nil
        plain.malformation = nil
        for index in plain.attributes.indices where plain.attributes[index].type == .fingerprint {
            plain.attributes[index].value = .unsigned(0)
        }
        return plain
    }

    // MARK: Bytes -> message -> the same bytes

    @Test(arguments: [RFC5769.sampleRequest, RFC5769.ipv4Response, RFC5769.ipv6Response, RFC5769.longTermRequest,
                      RFC8489VectorTests.request])
    func publishedVectorsComeBackByteForByte(_ vector: [UInt8]) throws {
        // RFC 5769 pads with spaces (0x20), not zeros: padding is kept as read.
        #expect(try reemitted(vector) == vector)
        let message = try #require(parse(vector))
        #expect(try #require(parse(try reemitted(vector))) == message)
    }

    @Test func integrityIsRecomputedWithTheKey() throws {
        let shortTerm = StunKey.shortTerm(password: RFC5769.shortTermPassword)
        #expect(try reemitted(RFC5769.sampleRequest, integrityKey: shortTerm) == RFC5769.sampleRequest)
        #expect(try reemitted(RFC5769.ipv6Response, integrityKey: shortTerm) == RFC5769.ipv6Response)
        let longTerm = StunKey.longTerm(user: RFC5769.longTermUser, realm: "example.org", password: "TheMatrIX")
        #expect(try reemitted(RFC5769.longTermRequest, integrityKey: longTerm) == RFC5769.longTermRequest)
        let wrong = try reemitted(RFC5769.sampleRequest, integrityKey: .shortTerm(password: "wrong"))
        #expect(wrong.count == RFC5769.sampleRequest.count && wrong != RFC5769.sampleRequest)
    }

    @Test func messageIntegritySHA256IsRecomputedWithTheKey() throws {
        // RFC 8489 B.1: USERHASH and MESSAGE-INTEGRITY-SHA256 (no PASSWORD-ALGORITHM, so the MD5 long-term key).
        let key = StunKey.longTerm(user: RFC5769.longTermUser, realm: "example.org", password: "TheMatrIX")
        #expect(try reemitted(RFC8489VectorTests.request, integrityKey: key) == RFC8489VectorTests.request)
    }

    /// Classic RFC 3489: no cookie (16-byte ids), unXORed addresses.
    static let classicBindingRequest = hexBytes("""
        00 01 00 14 | 5a 16 e2 0b 9c 31 a8 4d 00 11 22 33 44 55 66 77
        00 03 00 04 00 00 00 06
        00 02 00 08 00 01 0d 96 c0 00 02 01
        """)
    static let classicBindingResponse = hexBytes("""
        01 01 00 24 | 5a 16 e2 0b 9c 31 a8 4d 00 11 22 33 44 55 66 77
        00 01 00 08 00 01 9c 40 cb 00 71 02
        00 04 00 08 00 01 0d 96 cb 00 71 14
        00 05 00 08 00 01 0d 97 cb 00 71 15
        """)
    /// MS-TURN Data indication: MAGIC-COOKIE first, 0x0012 REMOTE-ADDRESS
    /// unXORed, values not padded (the 3-byte DATA ends the message).
    static let msTurnDataIndication = hexBytes("""
        01 15 00 1b | 5a 16 e2 0b 9c 31 a8 4d 00 11 22 33 44 55 66 77
        00 0f 00 04 72 c6 4b c6
        00 12 00 08 00 01 3f cc 5d 47 6e cd
        00 13 00 03 80 00 00
        """)
    /// MS-TURN with the cookie: an 11-byte reason, unpadded, then MS-VERSION.
    static let msTurnAllocateError = hexBytes("""
        01 13 00 23 | 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        00 0f 00 04 72 c6 4b c6
        00 09 00 0f 00 00 04 01 6f 64 64 20 6c 65 6e 67 74 68 21
        80 08 00 04 00 00 00 06
        """)
    /// RFC 5389 where the last attribute leaves its padding out, as some stacks do.
    static let lastPaddingOmitted = hexBytes("""
        01 01 00 13 | 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        00 20 00 08 00 01 a1 47 e1 12 a6 43
        80 22 00 03 61 62 63
        """)

    @Test(arguments: [classicBindingRequest, classicBindingResponse, msTurnDataIndication, msTurnAllocateError, lastPaddingOmitted])
    func dialectsAndPaddingComeBackByteForByte(_ bytes: [UInt8]) throws {
        let message = try #require(parse(bytes))
        #expect(message.malformation == nil)
        #expect(try reemitted(bytes) == bytes)
        #expect(try #require(parse(try reemitted(bytes))) == message)
    }

    @Test func dialectsAreReadAsTheyWereWritten() throws {
        #expect(try #require(parse(Self.classicBindingResponse)).dialect == .classic)
        let dataIndication = try #require(parse(Self.msTurnDataIndication))
        #expect(dataIndication.dialect == .msTurn)
        #expect(dataIndication.attributes.map(\.padding) == [.absent, .absent, .absent])
        #expect(dataIndication.peerAddresses == [Endpoint("93.71.110.205:16332")!])
        #expect(try #require(parse(Self.msTurnAllocateError)).dialect == .msTurn)
        #expect(try #require(parse(Self.lastPaddingOmitted)).attributes.last?.padding == StunPadding.absent)
        #expect(try #require(parse(RFC5769.sampleRequest)).first(.username)?.padding == StunPadding([0x20, 0x20, 0x20]))
    }

    // MARK: FINGERPRINT

    @Test func fingerprintIsRecomputedForWhatIsWritten() throws {
        var message = try #require(parse(RFC5769.sampleRequest))
        message.transactionID = try #require(StunTransactionID(bytes: Array(1...12)))
        let bytes = try message.emitted()
        let again = try #require(parse(bytes))
        #expect(again.fingerprint == .valid)
        #expect(again.transactionID.bytes == Array(1...12))
        // MESSAGE-INTEGRITY covers the id: kept as stored, it no longer checks; re-keyed, it does.
        let verifier = IntegrityVerifier(credentials: {
            let store = CredentialStore()
            store.addShortTerm(username: "evtj", password: RFC5769.shortTermPassword)
            return store
        }())
        #expect(parseVerifying(bytes, verifier)?.integrity == .invalid)
        let signed = try message.emitted(integrityKey: .shortTerm(password: RFC5769.shortTermPassword))
        #expect(parseVerifying(signed, verifier)?.integrity == .valid)
        #expect(try #require(parse(signed)).fingerprint == .valid)
    }

    @Test func aCorruptedFingerprintIsRepaired() throws {
        var bytes = RFC5769.sampleRequest
        bytes[bytes.count - 1] ^= 0x01
        #expect(try #require(parse(bytes)).fingerprint == .invalid)
        #expect(try reemitted(bytes) == RFC5769.sampleRequest)
    }

    // MARK: Message from values -> bytes -> the same values

    @Test func everyValueLayoutParsesBackToItsValue() throws {
        let id = try #require(StunTransactionID(bytes: Array(0x30..<0x3c)))
        let data: [UInt8] = [0x80, 0x60, 0x00, 0x01, 0xde, 0xad]
        let values: [(StunAttributeType, StunAttributeValue)] = [
            (.xorMappedAddress, .address(Endpoint("192.0.2.1:32853")!)),
            (.xorPeerAddress, .address(Endpoint("[2001:db8:1234:5678:11:2233:4455:6677]:32853")!)),
            (.mappedAddress, .address(Endpoint("198.51.100.7:3478")!)),
            (.otherAddress, .address(Endpoint("[2001:db8::2]:3479")!)),
            (.username, .string("evtj:h6vY")),
            (.requestedTransport, .unsigned(17)),
            (.channelNumber, .unsigned(0x4001)),
            (.lifetime, .unsigned(600)),
            (.iceControlling, .unsigned(0x0123_4567_89ab_cdef)),
            (.errorCode, .errorCode(code: 438, reason: "Stale Nonce")),
            (.addressErrorCode, .addressErrorCode(family: 2, code: 440, reason: "Address Family not Supported")),
            (.changeRequest, .changeRequest(changeIP: true, changePort: false)),
            (.evenPort, .evenPort(reserveNext: true)),
            (.useCandidate, .empty),
            (.unknownAttributes, .unsigned16List([0x001a, 0x802f, 0xc001])),
            (.passwordAlgorithms, .passwordAlgorithms([1, 2])),
            (.icmp, .icmp(type: 3, code: 13, errorData: 0x0000_05dc)),
            (.googNetworkInfo, .networkInfo(networkID: 7, cost: 10)),
            (.transactionTransmitCounter, .transmitCounter(request: 2, response: 1)),
            (.data, .data(data.withUnsafeBytes { PayloadSummary($0) })),
            (.messageIntegrity, .bytes(StunBytes([UInt8](repeating: 0xAB, count: 20)))),
            (StunAttributeType(0x7F31), .bytes([1, 2, 3, 4, 5])),
            (.fingerprint, .unsigned(0)),
        ]
        let message = StunMessage(type: StunMessageType(method: .allocate, messageClass: .success), transactionID: id,
                                  attributes: values.map { StunAttribute($0.0, $0.1) })
        let bytes = try message.emitted(data: data)
        let parsed = try #require(parse(bytes))
        #expect(parsed.malformation == nil)
        #expect(parsed.fingerprint == .valid)
        #expect(representation(parsed).attributes == message.attributes)
        #expect(parsed.type == message.type && parsed.transactionID == id)
        // The reserved bytes after short numbers are there, and zero (RFC 8656 14.7, 14.1).
        #expect(parsed.first(.requestedTransport)?.length == 4 && parsed.first(.channelNumber)?.length == 4)
        #expect(dataValue(bytes) == data)
    }

    @Test func emptyAndClassicMessages() throws {
        let classicID = try #require(StunTransactionID(bytes: Array(0..<16)))
        let request = StunMessage(type: StunMessageType(rawValue: 0x0001), transactionID: classicID, dialect: .classic)
        let bytes = try request.emitted()
        #expect(bytes == [0x00, 0x01, 0x00, 0x00] + Array(0..<16))
        let parsed = try #require(parse(bytes))
        #expect(parsed.isClassic && parsed.attributes.isEmpty)
    }

    // MARK: What cannot be written

    @Test func dataMustBeGivenAndMatchTheSummary() throws {
        var builder = StunMessageBuilder(type: StunMessageType(method: .send, messageClass: .indication), transactionID: AttributeDecodingTests.tid)
        builder.add(.xorPeerAddress, address: Endpoint("198.51.100.9:5000")!, xor: true)
        builder.add(.data, [1, 2, 3, 4, 5])
        let message = try #require(parse(builder.bytes))
        #expect(throws: StunEmitError.dataPayloadMissing) { try message.emitted() }
        #expect(throws: StunEmitError.self) { try message.emitted(data: [1, 2, 3, 4, 6]) }
        #expect(try message.emitted(data: [1, 2, 3, 4, 5]) == builder.bytes)
    }

    @Test func unreadableValuesAreNotInventedAndNothingIsAppended() throws {
        var builder = StunMessageBuilder(type: StunMessageType(method: .binding, messageClass: .success), transactionID: AttributeDecodingTests.tid)
        builder.add(.xorMappedAddress, [0, 1, 0x12])  // 3 bytes: the decoder says `.invalid`
        let message = try #require(parse(builder.bytes))
        guard case .invalid = try #require(message.attributes.first).value else {
            Issue.record("expected an invalid value")
            return
        }
        var out: [UInt8] = [9, 9]
        #expect(throws: StunEmitError.self) { try message.emit(into: &out) }
        #expect(out == [9, 9])
    }

    @Test func valuesThatDoNotFitTheirLayoutOrLength() throws {
        let id = try #require(StunTransactionID(bytes: Array(0..<12)))
        func emit(_ attribute: StunAttribute) throws {
            _ = try StunMessage(type: StunMessageType(rawValue: 0x0101), transactionID: id, attributes: [attribute]).emitted()
        }
        #expect(throws: StunEmitError.self) { try emit(StunAttribute(.priority, .string("high"))) }
        #expect(throws: StunEmitError.self) { try emit(StunAttribute(.channelNumber, .unsigned(0x1_0000))) }
        #expect(throws: StunEmitError.self) { try emit(StunAttribute(.errorCode, .errorCode(code: 1000, reason: ""))) }
        #expect(throws: StunEmitError.lengthMismatch(.priority, declared: 8, encoded: 4)) {
            try emit(StunAttribute(type: .priority, name: "PRIORITY", length: 8, value: .unsigned(1)))
        }
        #expect(throws: StunEmitError.tooLong(bytes: 70_000)) {
            try emit(StunAttribute(type: .software, name: "SOFTWARE", length: 70_000, value: .string(String(repeating: "x", count: 70_000))))
        }
    }

    @Test func reservedBitsAreWrittenAsZero() throws {
        // REQUESTED-TRANSPORT with its reserved bytes set: parsed as UDP, written back with zeros.
        var builder = StunMessageBuilder(type: StunMessageType(method: .allocate, messageClass: .request), transactionID: AttributeDecodingTests.tid)
        builder.add(.requestedTransport, [17, 0xFF, 0xFF, 0xFF])
        let message = try #require(parse(builder.bytes))
        let written = try message.emitted()
        #expect(Array(written[24..<28]) == [17, 0, 0, 0])
        #expect(try #require(parse(written)) == message)
    }

    // MARK: Hostile and mutated input

    /// For every mutation of the fuzz seeds that parses and can be written:
    /// what is written parses back to the same message.
    @Test func mutatedMessagesParseBackToThemselves() throws {
        var rng = SplitMix64(seed: 0x5EED_0E11)
        var written = 0
        for seed in FuzzTests.seeds + [Self.classicBindingResponse, Self.msTurnDataIndication, Self.msTurnAllocateError] {
            for _ in 0..<1_500 {
                var bytes = seed
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                guard let message = parse(bytes), message.malformation == nil,
                      let emitted = try? message.emitted(data: dataValue(bytes)) else { continue }
                written += 1
                let again = try #require(parse(emitted))
                #expect(representation(again) == representation(message), "\(bytes)")
                #expect(again.fingerprint == (message.contains(.fingerprint) ? .valid : nil))
            }
        }
        #expect(written > 3_000, "mutations should often stay writable")
    }
}
