import NetworkVocabulary
@testable import PacketDecoding

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
