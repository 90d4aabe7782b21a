import NetworkVocabulary
import PacketDecoding
import TestSupport
import Testing

/// Expected values come from an independent Python implementation of RFC 1071
/// and the RFC 768 / RFC 8200 pseudo-headers, or from published examples.
@Suite("Internet checksum")
struct InternetChecksumTests {
    static let client = IPAddress("192.0.2.1")!
    static let server = IPAddress("192.0.2.2")!
    static let client6 = IPAddress("2001:db8::1")!
    static let server6 = IPAddress("2001:db8::2")!

    func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum = InternetChecksum()
        sum.add(bytes)
        return sum.value
    }

    func udp(_ source: IPAddress, _ destination: IPAddress, _ payload: [UInt8]) -> UInt16 {
        Build.udp(32853, 3478, payload).withUnsafeBytes {
            InternetChecksum.udp(source: source, destination: destination, datagram: $0)
        }
    }

    @Test func rfc1071Example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        #expect(checksum([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]) == ~UInt16(0xddf2))
    }

    @Test func ipv4HeaderIgnoresItsOwnChecksumField() {
        var header: [UInt8] = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
                               0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7]
        #expect(header.withUnsafeBytes { InternetChecksum.ipv4Header($0) } == 0xb861)
        header[10] = 0xb8
        header[11] = 0x61
        #expect(header.withUnsafeBytes { InternetChecksum.ipv4Header($0) } == 0xb861)
        // A header carrying its checksum sums to zero: how a receiver checks it.
        #expect(checksum(header) == 0)
    }

    @Test func udpOverIPv4AndIPv6() {
        #expect(udp(Self.client, Self.server, Array("hello, odd".utf8)) == 0x2509)
        #expect(udp(Self.client, Self.server, Array("odd!!".utf8)) == 0xf95e)
        #expect(udp(Self.client6, Self.server6, Array("hello, odd".utf8)) == 0x4d98)
        #expect(udp(Self.client6, Self.server6, Array("odd!!".utf8)) == 0x21ee)
    }

    @Test func udpChecksumFieldIsIgnoredAndZeroIsSentAsAllOnes() {
        var datagram = Build.udp(32853, 3478, Array("even".utf8) + [0, 0])
        let plain = datagram.withUnsafeBytes { InternetChecksum.udp(source: Self.client, destination: Self.server, datagram: $0) }
        datagram[6] = 0xAA
        datagram[7] = 0x55
        #expect(datagram.withUnsafeBytes { InternetChecksum.udp(source: Self.client, destination: Self.server, datagram: $0) } == plain)
        // A word of the payload set to the checksum makes the sum all ones: computed 0, sent as 0xFFFF (RFC 768).
        datagram[datagram.count - 2] = UInt8(plain >> 8)
        datagram[datagram.count - 1] = UInt8(plain & 0xff)
        #expect(datagram.withUnsafeBytes { InternetChecksum.udp(source: Self.client, destination: Self.server, datagram: $0) } == 0xFFFF)
    }

    @Test func piecesOfAnyLengthSumAsOneBuffer() {
        var rng = SplitMix64(seed: 1071)
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var pieces = InternetChecksum()
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + Int.random(in: 1...7, using: &rng))
                pieces.add(Array(bytes[offset..<end]))
                offset = end
            }
            #expect(pieces.value == checksum(bytes))
        }
    }
}
