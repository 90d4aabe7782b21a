import NetworkVocabulary
@testable import PacketDecoding

/// Builds IPv4/IPv6/UDP/TCP packets and link-layer frames for the decoder tests.
enum Build {
    static func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }

    static func udp(_ sport: Int, _ dport: Int, _ payload: [UInt8]) -> [UInt8] {
        be16(sport) + be16(dport) + be16(8 + payload.count) + [0, 0] + payload
    }

    static func tcp(_ sport: Int, _ dport: Int, seq: UInt32, flags: UInt8, _ payload: [UInt8] = []) -> [UInt8] {
        be16(sport) + be16(dport) + be32(seq) + be32(0) + [0x50, flags] + be16(65535) + [0, 0, 0, 0] + payload
    }

    /// IPv4 header (+ options) around an upper-layer payload, or one fragment of it.
    static func ipv4(src: UInt32 = 0x0a00_0001, dst: UInt32 = 0x0a00_0002, proto: UInt8 = 17, id: Int = 1,
                     fragmentOffset: Int = 0, moreFragments: Bool = false, options: [UInt8] = [],
                     _ payload: [UInt8]) -> [UInt8] {
        let ihl = (20 + options.count) / 4
        let flags = (moreFragments ? 0x2000 : 0) | (fragmentOffset / 8)
        return [UInt8(0x40 | ihl), 0] + be16(20 + options.count + payload.count) + be16(id) + be16(flags)
            + [64, proto, 0, 0] + be32(src) + be32(dst) + options + payload
    }

    static let v6a: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    static let v6b: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]

    /// IPv6 header around `rest`, which starts with the header named by `next`.
    static func ipv6(next: UInt8, _ rest: [UInt8], src: [UInt8] = v6a, dst: [UInt8] = v6b) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(rest.count) + [next, 64] + src + dst + rest
    }

    /// An 8-byte extension header (hop-by-hop / destination options with PadN).
    static func extHeader(next: UInt8) -> [UInt8] { [next, 0, 1, 4, 0, 0, 0, 0] }

    static func fragmentHeader(next: UInt8, offset: Int, more: Bool, id: UInt32) -> [UInt8] {
        [next, 0] + be16(offset | (more ? 1 : 0)) + be32(id)
    }

    static let mac1: [UInt8] = [2, 0, 0, 0, 0, 1]
    static let mac2: [UInt8] = [2, 0, 0, 0, 0, 2]

    static func ethernet(_ ethertype: Int, _ ip: [UInt8], tags: [(tpid: Int, vid: Int)] = []) -> [UInt8] {
        var f = mac2 + mac1
        for t in tags { f += be16(t.tpid) + be16(t.vid) }
        return f + be16(ethertype) + ip
    }

    static func sll(_ ethertype: Int, _ ip: [UInt8]) -> [UInt8] {
        [0, 0] + be16(1) + be16(6) + mac1 + [0, 0] + be16(ethertype) + ip
    }

    static func sll2(_ ethertype: Int, _ ip: [UInt8]) -> [UInt8] {
        be16(ethertype) + [0, 0] + be32(2) + be16(1) + [0, 6] + mac1 + [0, 0] + ip
    }
}

/// Records everything the decoder hands on.
final class RecordingSink: TransportSink {
    var datagrams: [(context: FrameContext, flow: FiveTuple, payload: [UInt8], reassembled: Bool)] = []
    var tcpBytes: [Int: [UInt8]] = [:]           // stream -> client-to-server bytes in order
    var tcpReplyBytes: [Int: [UInt8]] = [:]      // stream -> server-to-client bytes
    var tcpOffsets: [(stream: Int, offset: UInt64, count: Int)] = []
    var events: [(stream: Int, kind: TCPStreamEventKind)] = []
    var clientFlows: [Int: FiveTuple] = [:]
    var icmpErrors: [(type: UInt8, code: UInt8, flow: FiveTuple, quoted: [UInt8])] = []

    func udpDatagram(_ d: UDPDatagram) {
        datagrams.append((d.context, d.flow, [UInt8](d.payload), d.reassembled))
    }
    func tcpData(_ d: TCPStreamData) {
        tcpOffsets.append((d.stream, d.streamOffset, d.payload.count))
        if let client = clientFlows[d.stream], client != d.flow {
            tcpReplyBytes[d.stream, default: []] += [UInt8](d.payload)
        } else {
            tcpBytes[d.stream, default: []] += [UInt8](d.payload)
        }
    }
    func tcpEvent(_ e: TCPStreamEvent) {
        if case .opened = e.kind { clientFlows[e.stream] = e.flow }
        events.append((e.stream, e.kind))
    }
    func icmpError(_ e: ICMPError) {
        icmpErrors.append((e.type, e.code, e.quotedFlow, [UInt8](e.quotedPayload)))
    }
}

/// Feeds frames to a decoder, one per `decode` call, with 1-based frame numbers.
final class Feeder {
    let sink = RecordingSink()
    let decoder: PacketDecoder
    var frame = 0
    init() { decoder = PacketDecoder(sink: sink) }

    func feed(_ bytes: [UInt8], link: LinkType = .ethernet, seconds: Int64 = 1_700_000_000, nanos: Int64 = 0) {
        frame += 1
        let n = frame
        bytes.withUnsafeBytes { raw in
            decoder.decode(CapturedPacket(frameNumber: n, fileIndex: 0, time: CaptureTime(seconds: seconds, nanoseconds: nanos),
                                          linkType: link, originalLength: raw.count, bytes: raw))
        }
    }

    var stats: DecodeStatistics { decoder.currentStatistics() }
}

/// Deterministic PRNG (SplitMix64) for the robustness tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
