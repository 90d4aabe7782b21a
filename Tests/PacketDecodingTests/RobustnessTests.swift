import NetworkVocabulary
import Testing
@testable import PacketDecoding
import TestSupport

/// Random and truncated bytes must never trap: every read is bounds-checked.
@Suite struct RobustnessTests {
    static let links: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .rawLinktype, .ipv4, .ipv6, LinkType(105)]

    /// Valid frames of every kind the decoder knows, to mutate and cut.
    static var seeds: [([UInt8], LinkType)] {
        let udp4 = Build.ipv4(Build.udp(1, 3478, Array(repeating: 7, count: 40)))
        let udp6 = Build.ipv6(next: 17, Build.udp(1, 3478, Array(repeating: 7, count: 40)))
        let tcp4 = Build.ipv4(proto: 6, Build.tcp(1, 2, seq: 5, flags: 0x18, [1, 2, 3]))
        let frag4 = Build.ipv4(id: 3, fragmentOffset: 8, moreFragments: true, Array(repeating: 1, count: 16))
        let frag6 = Build.ipv6(next: 0, Build.extHeader(next: 44) + Build.fragmentHeader(next: 60, offset: 0, more: true, id: 4)
                               + Build.extHeader(next: 17) + Build.udp(1, 2, Array(repeating: 2, count: 16)))
        let icmp4 = Build.ipv4(proto: 1, [3, 3, 0, 0, 0, 0, 0, 0] + udp4)
        let icmp6 = Build.ipv6(next: 58, [1, 4, 0, 0, 0, 0, 0, 0] + Build.ipv6(next: 0, Build.extHeader(next: 17) + Build.udp(1, 2, [])))
        var out: [([UInt8], LinkType)] = []
        for ip in [udp4, udp6, tcp4, frag4, frag6, icmp4, icmp6] {
            let v6 = ip[0] >> 4 == 6
            let et = v6 ? 0x86dd : 0x0800
            out.append((Build.ethernet(et, ip, tags: [(0x88a8, 1), (0x8100, 2)]), .ethernet))
            out.append((Build.sll(0x8100, Build.be16(3) + Build.be16(et) + ip), .linuxSLL))
            out.append((Build.sll2(et, ip), .linuxSLL2))
            out.append(([v6 ? 30 : 2, 0, 0, 0] + ip, .null))
            out.append((ip, .raw))
            out.append((ip, v6 ? .ipv6 : .ipv4))
        }
        return out
    }

    @Test func randomBytesOnEveryLinkType() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let f = Feeder()
        for i in 0..<20_000 {
            let n = Int(rng.next() % 200)
            var bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Bias towards plausible headers so the deeper layers are reached.
            if n > 1, rng.next() % 2 == 0 { bytes[0] = rng.next() % 2 == 0 ? 0x45 : 0x60 }
            f.feed(bytes, link: Self.links[i % Self.links.count], nanos: Int64(i))
        }
        f.decoder.finish()
        #expect(f.stats.packets == 20_000)
    }

    @Test func everyTruncationOfValidFrames() {
        let f = Feeder()
        var count = 0
        for (frame, link) in Self.seeds {
            for cut in 0...frame.count {
                f.feed(Array(frame[0..<cut]), link: link)
                count += 1
            }
        }
        f.decoder.finish()
        #expect(f.stats.packets == count)
    }

    @Test func mutatedValidFrames() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        let f = Feeder()
        let seeds = Self.seeds
        for i in 0..<30_000 {
            var (frame, link) = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + rng.next() % 4) {
                let at = Int(rng.next() % UInt64(frame.count))
                switch rng.next() % 3 {
                case 0: frame[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: frame[at] = 0xff
                default: frame[at] = 0
                }
            }
            if rng.next() % 4 == 0 { frame = Array(frame[0..<Int(rng.next() % UInt64(frame.count + 1))]) }
            f.feed(frame, link: link, nanos: Int64(i) * 1_000_000)
        }
        f.decoder.finish()
        #expect(f.stats.packets == 30_000)
    }

    @Test func randomFragmentStorms() {
        var rng = SplitMix64(seed: 0x5EED_0003)
        var r = FragmentReassembler()
        r.maxDatagrams = 32
        r.maxBufferedBytes = 64 << 10
        for i in 0..<50_000 {
            let key = FragmentReassembler.Key(source: .v4(1), destination: .v4(2), identification: UInt32(rng.next() % 40), protocolNumber: 17)
            let offset = Int(rng.next() % 70_000) & ~7
            let piece = [UInt8](repeating: UInt8(i & 0xff), count: Int(rng.next() % 1500))
            let outcome = piece.withUnsafeBytes {
                r.add(key: key, offset: offset, moreFragments: rng.next() % 3 != 0, payload: $0,
                      time: CaptureTime(nanoseconds: Int64(i) * 1_000_000))
            }
            if case let .complete(whole) = outcome { #expect(whole.count <= 65_535) }
            #expect(r.pendingDatagrams <= 32)
        }
    }

    @Test func randomTCPSegments() {
        var rng = SplitMix64(seed: 0x5EED_0004)
        var h = TCPHarness()
        h.r.maxBufferedPerDirection = 4096
        h.r.maxConnections = 8
        for i in 0..<30_000 {
            h.client = Endpoint(.v4(0x0a00_0001), UInt16(40_000 + rng.next() % 12))
            let len = Int(rng.next() % 300)
            h.segment(fromClient: rng.next() % 2 == 0, seq: UInt32(truncatingIfNeeded: rng.next() % 20_000),
                      syn: rng.next() % 50 == 0, fin: rng.next() % 100 == 0, rst: rng.next() % 200 == 0,
                      String(repeating: "x", count: len), at: Int64(i / 100))
        }
        h.r.finish(sink: h.sink, at: FrameContext(frame: 0, time: CaptureTime(nanoseconds: 0)))
        #expect(h.r.openConnections == 0)
    }
}
