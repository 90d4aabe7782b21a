import NetworkVocabulary
import Testing
@testable import StunWire

@Suite("RFC 5769 test vectors")
struct RFC5769Tests {
    func shortTermVerifier(_ password: String = RFC5769.shortTermPassword) -> IntegrityVerifier {
        let store = CredentialStore()
        store.addShortTerm(username: "evtj", password: password)
        return IntegrityVerifier(credentials: store)
    }

    @Test func sampleRequestDecodes() throws {
        let message = try #require(parse(RFC5769.sampleRequest))
        #expect(message.type.rawValue == 0x0001)
        #expect(message.method == .binding)
        #expect(message.messageClass == .request)
        #expect(message.transactionID.hex == "b7e7a701bc34d686fa87dfae")
        #expect(!message.isClassic)
        #expect(message.attributes.map(\.type.rawValue) == [0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028])
        #expect(message.software == "STUN test client")
        #expect(message.priority == 0x6e0001ff)
        #expect(message.iceControlled == 0x932ff9b151263b36)
        #expect(message.username == "evtj:h6vY")
        #expect(message.fingerprint == .valid)
        #expect(message.malformation == nil)
    }

    @Test func sampleRequestIntegrity() throws {
        let message = try #require(parseVerifying(RFC5769.sampleRequest, shortTermVerifier()))
        #expect(message.integrity == .valid)
        let wrong = try #require(parseVerifying(RFC5769.sampleRequest, shortTermVerifier("wrong")))
        #expect(wrong.integrity == .invalid)
        let none = try #require(parseVerifying(RFC5769.sampleRequest, IntegrityVerifier(credentials: CredentialStore())))
        #expect(none.integrity == .unchecked)
    }

    @Test func ipv4ResponseUsesTheRequestsKey() throws {
        let verifier = shortTermVerifier()
        _ = try #require(parseVerifying(RFC5769.sampleRequest, verifier))
        let response = try #require(parseVerifying(RFC5769.ipv4Response, verifier))
        #expect(response.messageClass == .success)
        #expect(response.xorMappedAddress == Endpoint("192.0.2.1:32853"))
        #expect(response.software == "test vector")
        #expect(response.fingerprint == .valid)
        #expect(response.integrity == .valid)
    }

    @Test func ipv6ResponseDeXorsWithTransactionID() throws {
        let verifier = shortTermVerifier()
        _ = try #require(parseVerifying(RFC5769.sampleRequest, verifier))
        let response = try #require(parseVerifying(RFC5769.ipv6Response, verifier))
        #expect(response.xorMappedAddress == Endpoint("[2001:db8:1234:5678:11:2233:4455:6677]:32853"))
        #expect(response.fingerprint == .valid)
        #expect(response.integrity == .valid)
    }

    @Test func responseWithoutRequestIsUnchecked() throws {
        let response = try #require(parseVerifying(RFC5769.ipv4Response, shortTermVerifier()))
        #expect(response.integrity == .unchecked)
    }

    @Test func longTermRequest() throws {
        let store = try CredentialStore(parsing: "\(RFC5769.longTermUser):example.org:TheMatrIX\n")
        let message = try #require(parseVerifying(RFC5769.longTermRequest, IntegrityVerifier(credentials: store)))
        #expect(message.username == RFC5769.longTermUser)
        #expect(message.realm == "example.org")
        #expect(message.nonce == "f//499k954d6OL34oL9FSTvy64sA")
        #expect(message.fingerprint == nil)
        #expect(message.integrity == .valid)

        let wrongStore = try CredentialStore(parsing: "\(RFC5769.longTermUser):example.org:NotTheMatrix\n")
        let wrong = try #require(parseVerifying(RFC5769.longTermRequest, IntegrityVerifier(credentials: wrongStore)))
        #expect(wrong.integrity == .invalid)
    }

    @Test func corruptedFingerprintIsInvalid() throws {
        var bytes = RFC5769.sampleRequest
        bytes[bytes.count - 1] ^= 0x01
        let message = try #require(parse(bytes))
        #expect(message.fingerprint == .invalid)
    }

    @Test func crc32CheckValue() {
        let value = Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) }
        #expect(value == 0xCBF4_3926)
    }
}

@Suite("RFC 8489 appendix B.1")
struct RFC8489VectorTests {
    /// USERHASH and MESSAGE-INTEGRITY-SHA256 with the RFC 5769 2.4 user and password.
    static let request = hexBytes("""
        00 01 00 88 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 1e 00 20 4a 3c f3 8f ef 69 92 bd a9 52 c6 78 04 17 da 0f 24 81 94 15 56 9e 60 b2 05 c4 6e 41 40 7f 17 04
        00 15 00 29 6f 62 4d 61 74 4a 6f 73 32 41 41 41 43 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39
        46 53 54 76 79 36 34 73 41 00 00 00
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
        00 1c 00 20 fd 8c 27 38 60 d2 e1 8e bc a4 c8 9b 69 73 be fa 7e e8 ec c6 9e 96 42 db 32 6f ab 65 a0 b9 55 ba
        """)

    @Test func userhashSelectsTheUser() throws {
        let message = try #require(parse(Self.request))
        #expect(message.malformation == nil)
        #expect(message.attributes.map(\.type.rawValue) == [0x001e, 0x0015, 0x0014, 0x001c])
        let store = try CredentialStore(parsing: "\(RFC5769.longTermUser):example.org:TheMatrIX\n")
        #expect(!store.candidateKeys(for: message).isEmpty, "USERHASH must find the credential")
        let verified = try #require(parseVerifying(Self.request, IntegrityVerifier(credentials: store)))
        #expect(verified.integrity == .valid)
        let wrong = try CredentialStore(parsing: "\(RFC5769.longTermUser):example.org:TheMatrix\n")
        #expect(parseVerifying(Self.request, IntegrityVerifier(credentials: wrong))?.integrity == .invalid)
    }
}
