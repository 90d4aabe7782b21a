import Testing
@testable import StunWire

@Suite("ChannelData")
struct ChannelDataTests {
    func frame(_ channel: UInt16, _ data: [UInt8], padded: Bool) -> [UInt8] {
        var bytes = [UInt8(channel >> 8), UInt8(channel & 0xff), UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
        if padded { bytes += [UInt8](repeating: 0, count: (4 - data.count % 4) % 4) }
        return bytes
    }

    @Test func udpWithAndWithoutPadding() throws {
        for padded in [false, true] {
            let bytes = frame(0x4000, [1, 2, 3, 4, 5], padded: padded)
            let ok = bytes.withUnsafeBytes { raw -> Bool in
                guard let view = ChannelDataView.datagram(raw) else { return false }
                return view.channel == 0x4000 && view.declaredLength == 5 && Array(view.payload) == [1, 2, 3, 4, 5]
                    && view.frameLength == bytes.count
            }
            #expect(ok, "padded \(padded)")
        }
    }

    @Test func lengthMustMatchTheDatagram() {
        var bytes = frame(0x4001, [1, 2, 3, 4, 5], padded: true)
        bytes.append(0)
        #expect(bytes.withUnsafeBytes { ChannelDataView.datagram($0) } == nil)
        let short = Array(frame(0x4001, [1, 2, 3, 4, 5], padded: false).dropLast())
        #expect(short.withUnsafeBytes { ChannelDataView.datagram($0) } == nil)
    }

    @Test func channelNumberRange() {
        for channel: UInt16 in [0x3FFF, 0x8000, 0xFFFF, 0x0001] {
            let bytes = frame(channel, [1, 2, 3, 4], padded: false)
            #expect(bytes.withUnsafeBytes { ChannelDataView.datagram($0) } == nil, "channel \(channel)")
        }
        for channel: UInt16 in [0x4000, 0x4FFF, 0x7FFF] {
            #expect(ChannelDataView.isChannelNumber(channel))
        }
    }

    @Test func msTurnMultiplexedChannel() throws {
        let session: [UInt8] = [0xde, 0xaa, 0x29, 0x67, 0x08, 0xf7, 0x08, 0xfc]
        let bytes = frame(0xFF10, session + [9, 8, 7], padded: false)
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            guard let view = ChannelDataView.datagram(raw) else { return false }
            return view.msTurnSessionID == 0xdeaa_2967_08f7_08fc && Array(view.payload) == [9, 8, 7]
        }
        #expect(ok)
    }

    @Test func streamFramesArePadded() {
        let bytes = frame(0x4002, [1, 2, 3, 4, 5], padded: true) + [0x40]
        #expect(bytes.withUnsafeBytes { ChannelDataView.streamFrameLength($0) } == 12)
        #expect(bytes.withUnsafeBytes { ChannelDataView.streamFrame($0)?.payload.count } == 5)
        #expect(Array(bytes.prefix(10)).withUnsafeBytes { ChannelDataView.streamFrame($0) } == nil)
    }
}

@Suite("RFC 7983 demultiplexing and payload hashes")
struct PayloadTests {
    @Test func firstByteClasses() {
        func cls(_ bytes: [UInt8], _ transport: TransportProtocolForTest = .udp) -> PayloadClass {
            bytes.withUnsafeBytes { PayloadClass.classify($0, transport: transport == .udp ? .udp : .tcp) }
        }
        #expect(cls([]) == .empty)
        #expect(cls([0x00, 0x01]) == .stun)
        #expect(cls([0x03]) == .stun)
        #expect(cls([0x10]) == .zrtp)
        #expect(cls([0x16, 0xfe]) == .dtls)
        #expect(cls([0x16, 0x03], .tcp) == .tls)
        #expect(cls([0x40, 0x00]) == .turnChannel)
        #expect(cls([0x80, 0x60]) == .rtp)
        #expect(cls([0x80, 0xc8]) == .rtcp)
        #expect(cls([0x81, 0xc9]) == .rtcp)
        #expect(cls([0x90, 0xe0]) == .rtp)
        #expect(cls([0xff]) == .unknown)
        #expect(cls([0x05]) == .unknown)
    }

    @Test func hashIsDeterministicAndSensitive() {
        var seen = Set<UInt64>()
        var bytes = [UInt8](repeating: 0, count: 64)
        for length in 0...64 {
            let h = bytes.withUnsafeBytes { PayloadHash.hash64(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            #expect(seen.insert(h).inserted, "zero payloads of different lengths must differ (\(length))")
        }
        for i in 0..<64 {
            let before = bytes.withUnsafeBytes { PayloadHash.hash64($0) }
            bytes[i] ^= 1
            let after = bytes.withUnsafeBytes { PayloadHash.hash64($0) }
            #expect(before != after)
        }
        // Same bytes at a different alignment hash the same.
        let base: [UInt8] = (0..<40).map { UInt8($0 * 7 & 0xff) }
        let shifted = [0xAA] + base
        let a = base.withUnsafeBytes { PayloadHash.hash64($0) }
        let b = shifted.withUnsafeBytes { PayloadHash.hash64(UnsafeRawBufferPointer(rebasing: $0[1...])) }
        #expect(a == b)
    }
}

enum TransportProtocolForTest { case udp, tcp }
