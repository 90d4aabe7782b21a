import PacketDecoding
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
