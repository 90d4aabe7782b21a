import NetworkVocabulary
import Testing
@testable import PacketDecoding
import TestSupport

@Suite struct LinkLayerTests {
    static let ip4 = Build.ipv4(Build.udp(1111, 3478, Array("stun".utf8)))
    static let ip6 = Build.ipv6(next: 17, Build.udp(1111, 3478, Array("stun".utf8)))

    func locate(_ frame: [UInt8], _ link: LinkType) -> LinkLayer.Result {
        frame.withUnsafeBytes { LinkLayer.locateNetworkLayer($0, linkType: link) }
    }

    func offset(_ r: LinkLayer.Result) -> (v6: Bool, offset: Int, tagged: Bool)? {
        switch r {
        case let .ipv4(o, t): return (false, o, t)
        case let .ipv6(o, t): return (true, o, t)
        default: return nil
        }
    }

    @Test func ethernet() {
        let r = offset(locate(Build.ethernet(0x0800, Self.ip4), .ethernet))
        #expect(r?.v6 == false && r?.offset == 14 && r?.tagged == false)
        let r6 = offset(locate(Build.ethernet(0x86dd, Self.ip6), .ethernet))
        #expect(r6?.v6 == true && r6?.offset == 14)
    }

    @Test func vlanAndQinQ() {
        let q = offset(locate(Build.ethernet(0x0800, Self.ip4, tags: [(0x8100, 100)]), .ethernet))
        #expect(q?.offset == 18 && q?.tagged == true)
        let qinq = offset(locate(Build.ethernet(0x86dd, Self.ip6, tags: [(0x88a8, 200), (0x8100, 10)]), .ethernet))
        #expect(qinq?.v6 == true && qinq?.offset == 22 && qinq?.tagged == true)
        let old = offset(locate(Build.ethernet(0x0800, Self.ip4, tags: [(0x9100, 5), (0x8100, 6)]), .ethernet))
        #expect(old?.offset == 22)
    }

    @Test func linuxCooked() {
        #expect(offset(locate(Build.sll(0x0800, Self.ip4), .linuxSLL))?.offset == 16)
        #expect(offset(locate(Build.sll2(0x86dd, Self.ip6), .linuxSLL2))?.offset == 20)
        // libpcap puts a VLAN tag it got from the kernel after the SLL protocol field.
        let tagged = Build.sll(0x8100, Build.be16(100) + Build.be16(0x0800) + Self.ip4)
        let r = offset(locate(tagged, .linuxSLL))
        #expect(r?.offset == 20 && r?.tagged == true && r?.v6 == false)
    }

    @Test func nullAndLoop() {
        // NULL: host byte order, either way round; BSD AF_INET6 values 24, 28, 30 and Linux 10.
        for family: UInt32 in [2, 10, 24, 28, 30] {
            let ip = family == 2 ? Self.ip4 : Self.ip6
            let le = [UInt8(family), 0, 0, 0] + ip
            let be = Build.be32(family) + ip
            #expect(offset(locate(le, .null))?.offset == 4)
            #expect(offset(locate(le, .null))?.v6 == (family != 2))
            #expect(offset(locate(be, .null))?.v6 == (family != 2))
            #expect(offset(locate(be, .loop))?.v6 == (family != 2))
        }
        guard case .notIP = locate([7, 0, 0, 0] + Self.ip4, .null) else { Issue.record("family 7"); return }
    }

    @Test func rawAndBareIP() {
        for link in [LinkType.raw, .rawLinktype, .rawOpenBSD] {
            #expect(offset(locate(Self.ip4, link))?.offset == 0)
            #expect(offset(locate(Self.ip6, link))?.v6 == true)
        }
        #expect(offset(locate(Self.ip4, .ipv4))?.v6 == false)
        #expect(offset(locate(Self.ip6, .ipv6))?.v6 == true)
    }

    @Test func truncatedHeaders() {
        let cases: [([UInt8], LinkType)] = [
            (Array(repeating: 0, count: 13), .ethernet), (Array(repeating: 0, count: 15), .linuxSLL),
            (Array(repeating: 0, count: 19), .linuxSLL2), ([2, 0, 0], .null), ([], .raw),
            (Build.ethernet(0x8100, [0, 100]), .ethernet),
        ]
        for (frame, link) in cases {
            guard case .truncated = locate(frame, link) else { Issue.record("\(link) \(frame.count)"); continue }
        }
    }

    @Test func everyLinkTypeDecodesTheSameDatagram() {
        let frames: [([UInt8], LinkType)] = [
            (Build.ethernet(0x0800, Self.ip4), .ethernet),
            (Build.ethernet(0x0800, Self.ip4, tags: [(0x88a8, 1), (0x8100, 2)]), .ethernet),
            (Build.sll(0x0800, Self.ip4), .linuxSLL), (Build.sll2(0x0800, Self.ip4), .linuxSLL2),
            ([2, 0, 0, 0] + Self.ip4, .null), (Build.be32(2) + Self.ip4, .loop),
            (Self.ip4, .raw), (Self.ip4, .ipv4),
        ]
        for (frame, link) in frames {
            let f = Feeder()
            f.feed(frame, link: link)
            #expect(f.sink.datagrams.count == 1, "\(link)")
            #expect(f.sink.datagrams.first?.payload == Array("stun".utf8))
            #expect(f.sink.datagrams.first?.flow.destination.port == 3478)
            #expect(f.sink.datagrams.first?.context.frame == 1)
        }
    }
}

@Suite struct DecoderTests {
    @Test func ipv4OptionsAreSkipped() {
        let f = Feeder()
        let rr: [UInt8] = [7, 7, 4, 0, 0, 0, 0, 0]  // Record Route + end of list
        f.feed(Build.ethernet(0x0800, Build.ipv4(options: rr, Build.udp(5, 6, [1, 2, 3]))))
        #expect(f.sink.datagrams.first?.payload == [1, 2, 3])
    }

    @Test func ethernetPaddingIsIgnored() {
        let f = Feeder()
        f.feed(Build.ethernet(0x0800, Build.ipv4(Build.udp(5, 6, [9]))) + [0, 0, 0, 0, 0, 0])
        #expect(f.sink.datagrams.first?.payload == [9])
    }

    @Test func ipv4FragmentsReassembleAtTheLastFrame() {
        let f = Feeder()
        let whole = Build.udp(4000, 7000, (0..<3000).map { UInt8(truncatingIfNeeded: $0) })
        let cuts = [0, 1480, 2960, whole.count]
        for (i, (a, b)) in zip(cuts, cuts.dropFirst()).enumerated().reversed() {   // last fragment first
            f.feed(Build.ethernet(0x0800, Build.ipv4(id: 42, fragmentOffset: a, moreFragments: i < 2, Array(whole[a..<b]))))
        }
        let s = f.stats
        #expect(s.fragments == 3 && s.reassembledDatagrams == 1 && s.udp == 1 && s.ipv4 == 3)
        #expect(f.sink.datagrams.first?.reassembled == true)
        #expect(f.sink.datagrams.first?.context.frame == 3)
        #expect(f.sink.datagrams.first?.payload.count == 3000)
    }

    @Test func ipv6FragmentsWithDestinationOptionsAfterTheFragmentHeader() {
        // The fragmentable part starts with a destination options header (RFC 8200 4.5):
        // the upper layer is found only after reassembly.
        let f = Feeder()
        let fragmentable = Build.extHeader(next: 17) + Build.udp(4000, 7000, Array(repeating: 0xab, count: 2000))
        let first = Array(fragmentable[0..<1232]), second = Array(fragmentable[1232...])
        f.feed(Build.ethernet(0x86dd, Build.ipv6(next: 44, Build.fragmentHeader(next: 60, offset: 0, more: true, id: 9) + first)))
        f.feed(Build.ethernet(0x86dd, Build.ipv6(next: 44, Build.fragmentHeader(next: 60, offset: 1232, more: false, id: 9) + second)))
        #expect(f.stats.reassembledDatagrams == 1)
        #expect(f.stats.udp == 1)
        #expect(f.stats.otherIPProtocols == 0)
        #expect(f.sink.datagrams.first?.payload.count == 2000)
    }

    @Test func ipv6ExtensionHeadersBeforeTheFragmentHeader() {
        let f = Feeder()
        let whole = Build.udp(4000, 7000, Array(repeating: 1, count: 1500))
        let hop = Build.extHeader(next: 60), dst = Build.extHeader(next: 44)
        f.feed(Build.ethernet(0x86dd, Build.ipv6(next: 0, hop + dst + Build.fragmentHeader(next: 17, offset: 0, more: true, id: 3) + Array(whole[0..<1000]))))
        f.feed(Build.ethernet(0x86dd, Build.ipv6(next: 0, hop + dst + Build.fragmentHeader(next: 17, offset: 1000, more: false, id: 3) + Array(whole[1000...]))))
        #expect(f.sink.datagrams.first?.payload.count == 1500)
    }

    @Test func ipv6AtomicFragmentIsAWholePacket() {
        let f = Feeder()
        f.feed(Build.ethernet(0x86dd, Build.ipv6(next: 44, Build.fragmentHeader(next: 60, offset: 0, more: false, id: 1)
            + Build.extHeader(next: 17) + Build.udp(1, 2, [5]))))
        #expect(f.sink.datagrams.first?.payload == [5])
        #expect(f.stats.fragments == 0 && f.stats.reassembledDatagrams == 0)
    }

    @Test func icmpPortUnreachableQuotesTheFlow() {
        let f = Feeder()
        let original = Build.ipv4(src: 0x0a00_0001, dst: 0x0a00_0002, Build.udp(40_000, 9, Array("STUN".utf8)))
        let icmp: [UInt8] = [3, 3, 0, 0, 0, 0, 0, 0] + original
        f.feed(Build.ethernet(0x0800, Build.ipv4(src: 0x0a00_0002, dst: 0x0a00_0001, proto: 1, icmp)))
        #expect(f.stats.icmp == 1 && f.stats.udp == 0 && f.stats.icmpErrorsQuotingTransport == 1)
        let e = f.sink.icmpErrors.first
        #expect(e?.type == 3 && e?.code == 3)
        #expect(e?.flow.source == Endpoint(.v4(0x0a00_0001), 40_000))
        #expect(e?.flow.destination.port == 9)
        #expect(e?.quoted == Array("STUN".utf8))
    }

    @Test func icmpv6PortUnreachableQuotesTheFlow() {
        let f = Feeder()
        let original = Build.ipv6(next: 17, Build.udp(40_000, 9, [1, 2]))
        f.feed(Build.ethernet(0x86dd, Build.ipv6(next: 58, [1, 4, 0, 0, 0, 0, 0, 0] + original, src: Build.v6b, dst: Build.v6a)))
        #expect(f.sink.icmpErrors.first?.flow.destination.port == 9)
        #expect(f.stats.icmp == 1)
    }

    @Test func tcpThroughTheDecoder() {
        let f = Feeder()
        let c: UInt32 = 0x0a00_0001, s: UInt32 = 0x0a00_0002
        f.feed(Build.ethernet(0x0800, Build.ipv4(src: c, dst: s, proto: 6, Build.tcp(40_000, 3478, seq: 100, flags: 0x02))))
        f.feed(Build.ethernet(0x0800, Build.ipv4(src: s, dst: c, proto: 6, Build.tcp(3478, 40_000, seq: 900, flags: 0x12))))
        f.feed(Build.ethernet(0x0800, Build.ipv4(src: c, dst: s, proto: 6, Build.tcp(40_000, 3478, seq: 101, flags: 0x18, [1, 2, 3]))))
        f.feed(Build.ethernet(0x0800, Build.ipv4(src: c, dst: s, proto: 6, Build.tcp(40_000, 3478, seq: 104, flags: 0x18, [4]))))
        f.decoder.finish()
        #expect(f.sink.tcpBytes[0] == [1, 2, 3, 4])
        #expect(f.stats.tcp == 4 && f.stats.tcpStreams == 1)
    }

    @Test func statisticsOfAMixedRun() {
        let f = Feeder()
        f.feed(Build.ethernet(0x0806, Array(repeating: 0, count: 28)), nanos: 5)   // ARP
        f.feed(Build.ethernet(0x0800, Build.ipv4(Build.udp(1, 2, []))), nanos: 3)
        f.feed(Build.ethernet(0x0800, Build.ipv4(proto: 47, [0, 0, 0, 0])), nanos: 9)  // GRE
        let s = f.stats
        #expect(s.packets == 3 && s.ipv4 == 2 && s.udp == 1 && s.otherIPProtocols == 1)
        #expect(s.undecodable == 1 && s.undecodableReasons["not IP (ethertype 0x0806)"] == 1)
        #expect(s.firstTime?.nanoseconds == 1_700_000_000_000_000_003)
        #expect(s.lastTime?.nanoseconds == 1_700_000_000_000_000_009)
        #expect(s.linkTypes == ["EN10MB"])
        #expect(s.udpFlows == 1)
    }
}
