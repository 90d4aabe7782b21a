import NetworkVocabulary

/// Link -> IP (with fragment reassembly) -> UDP / TCP (with stream
/// reassembly) / ICMP errors, feeding a `TransportSink`.
///
/// Reads every header through bounds-checked offsets; a damaged packet is
/// counted as undecodable with a reason and never stops the run.
public final class PacketDecoder {
    public let sink: TransportSink
    public private(set) var statistics = DecodeStatistics()

    private var fragments = FragmentReassembler()
    private var tcp = TCPReassembler()
    private var udpFlowSet = Set<FiveTuple>()
    private var seenLinkTypes: [Int32] = []
    private var lastContext = FrameContext(frame: 0, time: CaptureTime(nanoseconds: 0))

    /// Flow sets stop growing here (the count becomes a lower bound) so floods cannot eat memory.
    public var maxTrackedFlows = 1 << 20

    public init(sink: TransportSink) { self.sink = sink }

    public struct Limits {
        public var maxFragmentDatagrams = 4_096
        public var maxFragmentBytes = 16 << 20
        public var maxTCPConnections = 65_536
        public var maxTCPBufferPerDirection = 256 << 10
        public var maxTCPBufferTotal = 64 << 20
        public init() {}
    }

    public func apply(_ limits: Limits) {
        fragments.maxDatagrams = limits.maxFragmentDatagrams
        fragments.maxBufferedBytes = limits.maxFragmentBytes
        tcp.maxConnections = limits.maxTCPConnections
        tcp.maxBufferedPerDirection = limits.maxTCPBufferPerDirection
        tcp.maxBufferedTotal = limits.maxTCPBufferTotal
    }

    public func decode(_ packet: CapturedPacket) {
        statistics.packets &+= 1
        statistics.bytes &+= packet.bytes.count
        statistics.wireBytes &+= packet.originalLength
        if statistics.firstTime == nil || packet.time < statistics.firstTime! { statistics.firstTime = packet.time }
        if statistics.lastTime == nil || packet.time > statistics.lastTime! { statistics.lastTime = packet.time }
        if !seenLinkTypes.contains(packet.linkType.dlt) {
            seenLinkTypes.append(packet.linkType.dlt)
            statistics.linkTypes.append(packet.linkType.name)
        }
        let context = FrameContext(frame: packet.frameNumber, fileIndex: packet.fileIndex, time: packet.time)
        lastContext = context
        let b = packet.bytes
        switch LinkLayer.locateNetworkLayer(b, linkType: packet.linkType) {
        case let .ipv4(offset, tagged):
            if tagged { statistics.vlanTagged &+= 1 }
            decodeIPv4(b, offset, context)
        case let .ipv6(offset, tagged):
            if tagged { statistics.vlanTagged &+= 1 }
            decodeIPv6(b, offset, context)
        case let .notIP(reason):
            statistics.noteUndecodable("not IP (\(reason))")
        case let .truncated(reason):
            statistics.noteUndecodable(reason)
        }
    }

    /// End of input: flushes TCP streams (gaps, closes) and final counters.
    public func finish() {
        tcp.finish(sink: sink, at: lastContext)
        syncCounters()
    }

    private func syncCounters() {
        statistics.tcpStreams = tcp.streamsCreated
        statistics.tcpRetransmittedSegments = tcp.retransmittedSegments
        statistics.tcpOutOfOrderSegments = tcp.outOfOrderSegments
        statistics.tcpGaps = tcp.gaps
        statistics.tcpGapBytes = tcp.gapBytes
        statistics.tcpStreamsEvicted = tcp.evicted
        statistics.fragmentDatagramsEvicted = fragments.evicted
        statistics.fragmentsDroppedOverlap = fragments.droppedOverlap
        statistics.udpFlows = udpFlowSet.count
    }

    /// Current counters, including the reassemblers'.
    public func currentStatistics() -> DecodeStatistics {
        syncCounters()
        return statistics
    }

    // MARK: IPv4

    private func decodeIPv4(_ b: UnsafeRawBufferPointer, _ start: Int, _ context: FrameContext) {
        guard b.count >= start &+ 20 else { return statistics.noteUndecodable("truncated IPv4 header") }
        statistics.ipv4 &+= 1
        let vihl = b[start]
        guard vihl >> 4 == 4 else { return statistics.noteUndecodable("bad IPv4 version") }
        let headerLength = Int(vihl & 0x0f) &* 4
        guard headerLength >= 20, b.count >= start &+ headerLength else {
            return statistics.noteUndecodable("bad IPv4 header length")
        }
        let totalLength = Int(b.loadBE16(start &+ 2))
        guard totalLength >= headerLength else { return statistics.noteUndecodable("bad IPv4 total length") }
        // Snapped captures hold less than totalLength; Ethernet padding makes more.
        let end = min(b.count, start &+ totalLength)
        let flagsOffset = b.loadBE16(start &+ 6)
        let moreFragments = flagsOffset & 0x2000 != 0
        let fragmentOffset = Int(flagsOffset & 0x1fff) &* 8
        let proto = b[start &+ 9]
        let source = IPAddress.v4(b.loadBE32(start &+ 12))
        let destination = IPAddress.v4(b.loadBE32(start &+ 16))
        let payload = UnsafeRawBufferPointer(rebasing: b[(start &+ headerLength)..<end])
        if moreFragments || fragmentOffset != 0 {
            statistics.fragments &+= 1
            let key = FragmentReassembler.Key(source: source, destination: destination,
                                              identification: UInt32(b.loadBE16(start &+ 4)), protocolNumber: proto)
            switch fragments.add(key: key, offset: fragmentOffset, moreFragments: moreFragments, payload: payload, time: context.time) {
            case let .complete(whole):
                statistics.reassembledDatagrams &+= 1
                whole.withUnsafeBytes { decodeTransport(proto, source, destination, $0, context, reassembled: true, ipv6: false) }
            case .incomplete, .dropped:
                break
            }
            return
        }
        decodeTransport(proto, source, destination, payload, context, reassembled: false, ipv6: false)
    }

    // MARK: IPv6

    private func decodeIPv6(_ b: UnsafeRawBufferPointer, _ start: Int, _ context: FrameContext) {
        guard b.count >= start &+ 40 else { return statistics.noteUndecodable("truncated IPv6 header") }
        statistics.ipv6 &+= 1
        guard b[start] >> 4 == 6 else { return statistics.noteUndecodable("bad IPv6 version") }
        let payloadLength = Int(b.loadBE16(start &+ 4))
        let end = payloadLength == 0 ? b.count : min(b.count, start &+ 40 &+ payloadLength)
        var next = b[start &+ 6]
        let source = IPAddress.read(b, at: start &+ 8, ipv6: true)
        let destination = IPAddress.read(b, at: start &+ 24, ipv6: true)
        var offset = start &+ 40
        var fragment: (offset: Int, more: Bool, id: UInt32)?
        var headers = 0
        extensionLoop: while headers < 16 {
            headers &+= 1
            switch next {
            case 0, 43, 60: // hop-by-hop, routing, destination options
                guard end >= offset &+ 8 else { return statistics.noteUndecodable("truncated IPv6 extension header") }
                let length = (Int(b[offset &+ 1]) &+ 1) &* 8
                guard end >= offset &+ length else { return statistics.noteUndecodable("truncated IPv6 extension header") }
                next = b[offset]
                offset &+= length
            case 51: // AH: length in 4-byte units minus 2
                guard end >= offset &+ 8 else { return statistics.noteUndecodable("truncated IPv6 AH header") }
                let length = (Int(b[offset &+ 1]) &+ 2) &* 4
                guard end >= offset &+ length else { return statistics.noteUndecodable("truncated IPv6 AH header") }
                next = b[offset]
                offset &+= length
            case 44: // fragment
                guard end >= offset &+ 8 else { return statistics.noteUndecodable("truncated IPv6 fragment header") }
                let field = b.loadBE16(offset &+ 2)
                next = b[offset]
                offset &+= 8
                // An atomic fragment (offset 0, no more fragments, RFC 6946) is a whole packet:
                // its headers go on.
                if field & 0xfff9 == 0 { continue extensionLoop }
                fragment = (Int(field & 0xfff8), field & 1 != 0, b.loadBE32(offset &- 4))
                break extensionLoop
            default:
                break extensionLoop
            }
        }
        guard offset <= end else { return statistics.noteUndecodable("truncated IPv6 packet") }
        let payload = UnsafeRawBufferPointer(rebasing: b[offset..<end])
        if let f = fragment {
            statistics.fragments &+= 1
            let key = FragmentReassembler.Key(source: source, destination: destination, identification: f.id, protocolNumber: 0)
            switch fragments.add(key: key, offset: f.offset, moreFragments: f.more, payload: payload, time: context.time) {
            case let .complete(whole):
                statistics.reassembledDatagrams &+= 1
                // The fragmentable part may itself start with extension headers (a
                // destination options header goes after the fragment header).
                whole.withUnsafeBytes { raw in
                    var proto = next
                    var start = 0
                    var hops = 0
                    while proto == 0 || proto == 43 || proto == 60 || proto == 51, hops < 16 {
                        hops &+= 1
                        guard raw.count >= start &+ 8 else { return statistics.noteUndecodable("truncated IPv6 extension header") }
                        let length = proto == 51 ? (Int(raw[start &+ 1]) &+ 2) &* 4 : (Int(raw[start &+ 1]) &+ 1) &* 8
                        guard raw.count >= start &+ length else { return statistics.noteUndecodable("truncated IPv6 extension header") }
                        proto = raw[start]
                        start &+= length
                    }
                    decodeTransport(proto, source, destination, UnsafeRawBufferPointer(rebasing: raw[start...]),
                                    context, reassembled: true, ipv6: true)
                }
            case .incomplete, .dropped:
                break
            }
            return
        }
        decodeTransport(next, source, destination, payload, context, reassembled: false, ipv6: true)
    }

    // MARK: Transport

    private func decodeTransport(_ proto: UInt8, _ source: IPAddress, _ destination: IPAddress,
                                 _ p: UnsafeRawBufferPointer, _ context: FrameContext, reassembled: Bool, ipv6: Bool) {
        switch proto {
        case 17:
            guard p.count >= 8 else { return statistics.noteUndecodable("truncated UDP header") }
            statistics.udp &+= 1
            let length = Int(p.loadBE16(4))
            // Length 0 happens with jumbograms and some offloads; trust the IP length then.
            let payloadEnd = length >= 8 ? min(p.count, length) : p.count
            let flow = FiveTuple(source: Endpoint(source, p.loadBE16(0)), destination: Endpoint(destination, p.loadBE16(2)), transport: .udp)
            if udpFlowSet.count < maxTrackedFlows {
                udpFlowSet.insert(flow.canonical)
            } else if !udpFlowSet.contains(flow.canonical) {
                statistics.flowCountsCapped = true
            }
            sink.udpDatagram(UDPDatagram(context: context, flow: flow,
                                         payload: UnsafeRawBufferPointer(rebasing: p[8..<payloadEnd]), reassembled: reassembled))
        case 6:
            guard p.count >= 20 else { return statistics.noteUndecodable("truncated TCP header") }
            let dataOffset = Int(p[12] >> 4) &* 4
            guard dataOffset >= 20, p.count >= dataOffset else { return statistics.noteUndecodable("bad TCP data offset") }
            statistics.tcp &+= 1
            let flags = p[13]
            let flow = FiveTuple(source: Endpoint(source, p.loadBE16(0)), destination: Endpoint(destination, p.loadBE16(2)), transport: .tcp)
            tcp.process(TCPReassembler.Segment(context: context, flow: flow, sequence: p.loadBE32(4),
                                               syn: flags & 0x02 != 0, ack: flags & 0x10 != 0,
                                               fin: flags & 0x01 != 0, rst: flags & 0x04 != 0,
                                               payload: UnsafeRawBufferPointer(rebasing: p[dataOffset...])), sink: sink)
        case 1 where !ipv6:
            statistics.icmp &+= 1
            decodeICMPError(p, reporter: source, context, v6: false)
        case 58 where ipv6:
            statistics.icmp &+= 1
            decodeICMPError(p, reporter: source, context, v6: true)
        default:
            statistics.otherIPProtocols &+= 1
        }
    }

    /// ICMP errors quote the offending packet's IP header and at least 8 bytes after it.
    private func decodeICMPError(_ p: UnsafeRawBufferPointer, reporter: IPAddress, _ context: FrameContext, v6: Bool) {
        guard p.count >= 8 else { return }
        let type = p[0], code = p[1]
        let isError = v6 ? (type >= 1 && type <= 4) : (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)
        guard isError else { return }
        let q = UnsafeRawBufferPointer(rebasing: p[8...])
        var proto: UInt8
        var source: IPAddress, destination: IPAddress
        var offset: Int
        if v6 {
            guard q.count >= 40, q[0] >> 4 == 6 else { return }
            proto = q[6]
            source = IPAddress.read(q, at: 8, ipv6: true)
            destination = IPAddress.read(q, at: 24, ipv6: true)
            offset = 40
            var hops = 0
            while (proto == 0 || proto == 43 || proto == 60) && hops < 8 {
                guard q.count >= offset &+ 8 else { return }
                let length = (Int(q[offset &+ 1]) &+ 1) &* 8
                proto = q[offset]
                offset &+= length
                hops &+= 1
            }
        } else {
            guard q.count >= 20, q[0] >> 4 == 4 else { return }
            let ihl = Int(q[0] & 0x0f) &* 4
            guard ihl >= 20 else { return }
            // Only a first fragment (or unfragmented packet) quotes ports.
            guard q.loadBE16(6) & 0x1fff == 0 else { return }
            proto = q[9]
            source = .v4(q.loadBE32(12))
            destination = .v4(q.loadBE32(16))
            offset = ihl
        }
        guard proto == 17 || proto == 6, q.count >= offset &+ 8 else { return }
        let transport: TransportProtocol = proto == 17 ? .udp : .tcp
        let flow = FiveTuple(source: Endpoint(source, q.loadBE16(offset)), destination: Endpoint(destination, q.loadBE16(offset &+ 2)), transport: transport)
        let headerLength: Int
        if transport == .udp {
            headerLength = 8
        } else {
            headerLength = q.count >= offset &+ 13 ? max(20, Int(q[offset &+ 12] >> 4) &* 4) : 20
        }
        let payloadStart = min(q.count, offset &+ headerLength)
        statistics.icmpErrorsQuotingTransport &+= 1
        sink.icmpError(ICMPError(context: context, reporter: reporter, isICMPv6: v6, type: type, code: code,
                                 quotedFlow: flow, quotedPayload: UnsafeRawBufferPointer(rebasing: q[payloadStart...])))
    }
}
