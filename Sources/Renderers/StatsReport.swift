import NetworkVocabulary
import Foundation
import PacketDecoding

/// `stunscope stats`: what the packet decoder saw in the capture files, as
/// capinfos-like text or JSON (exact nanosecond times as decimals).
public struct StatsReport {
    public struct File: Encodable, Sendable {
        public var path: String
        public var format: String
        public var linkType: String
        public var packets: Int

        public init(path: String, format: String, linkType: String, packets: Int) {
            self.path = path
            self.format = format
            self.linkType = linkType
            self.packets = packets
        }
    }

    public var files: [File]
    public var stats: DecodeStatistics
    public var errors: [String]

    public init(files: [File], stats: DecodeStatistics, errors: [String]) {
        self.files = files
        self.stats = stats
        self.errors = errors
    }

    private struct Document: Encodable {
        var files: [File]
        var packets: Int
        var bytes: Int
        var wireBytes: Int
        var linkTypes: [String]
        // Exact decimals (nanosecond precision): a Double holds only ~16 digits.
        var firstTime: Decimal?
        var lastTime: Decimal?
        var duration: Decimal?
        var ipv4: Int
        var ipv6: Int
        var udp: Int
        var tcp: Int
        var icmp: Int
        var icmpErrorsQuotingTransport: Int
        var vlanTagged: Int
        var fragments: Int
        var reassembledDatagrams: Int
        var fragmentsDroppedOverlap: Int
        var fragmentDatagramsEvicted: Int
        var udpFlows: Int
        var tcpStreams: Int
        var tcpRetransmittedSegments: Int
        var tcpOutOfOrderSegments: Int
        var tcpGaps: Int
        var tcpGapBytes: UInt64
        var tcpStreamsEvicted: Int
        var flowCountsCapped: Bool
        var otherIPProtocols: Int
        var undecodable: Int
        var undecodableReasons: [String: Int]
        var errors: [String]
    }

    /// Seconds with nanosecond precision as an exact JSON number (1700000000.123456789).
    public static func exactSeconds(_ t: CaptureTime) -> Decimal { exactSeconds(nanoseconds: t.nanoseconds) }

    public static func exactSeconds(nanoseconds: Int64) -> Decimal {
        Decimal(sign: nanoseconds < 0 ? .minus : .plus, exponent: -9, significand: Decimal(nanoseconds.magnitude))
    }

    /// Pretty-printed JSON with sorted keys (no trailing newline).
    public func json() -> String {
        let s = stats
        let doc = Document(
            files: files, packets: s.packets, bytes: s.bytes, wireBytes: s.wireBytes, linkTypes: s.linkTypes,
            firstTime: s.firstTime.map(StatsReport.exactSeconds), lastTime: s.lastTime.map(StatsReport.exactSeconds),
            duration: s.firstTime.flatMap { f in s.lastTime.map { StatsReport.exactSeconds(nanoseconds: $0.nanoseconds &- f.nanoseconds) } },
            ipv4: s.ipv4, ipv6: s.ipv6, udp: s.udp, tcp: s.tcp, icmp: s.icmp,
            icmpErrorsQuotingTransport: s.icmpErrorsQuotingTransport, vlanTagged: s.vlanTagged,
            fragments: s.fragments, reassembledDatagrams: s.reassembledDatagrams,
            fragmentsDroppedOverlap: s.fragmentsDroppedOverlap, fragmentDatagramsEvicted: s.fragmentDatagramsEvicted,
            udpFlows: s.udpFlows, tcpStreams: s.tcpStreams, tcpRetransmittedSegments: s.tcpRetransmittedSegments,
            tcpOutOfOrderSegments: s.tcpOutOfOrderSegments, tcpGaps: s.tcpGaps, tcpGapBytes: s.tcpGapBytes,
            tcpStreamsEvicted: s.tcpStreamsEvicted, flowCountsCapped: s.flowCountsCapped,
            otherIPProtocols: s.otherIPProtocols, undecodable: s.undecodable,
            undecodableReasons: s.undecodableReasons, errors: errors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(doc)) ?? Data(), as: UTF8.self)
    }

    /// The capinfos-like text, one `key: value` row a line.
    public func text() -> String {
        let s = stats
        var lines: [String] = []
        func row(_ k: String, _ v: String) { lines.append(k.padding(toLength: 28, withPad: " ", startingAt: 0) + v) }
        for f in files {
            row("File:", f.path)
            row("  format / link type:", "\(f.format) / \(f.linkType)")
            row("  packets:", "\(f.packets)")
        }
        row("Packets:", "\(s.packets)")
        row("Captured bytes:", "\(s.bytes) (on the wire \(s.wireBytes))")
        row("Link types:", s.linkTypes.joined(separator: ", "))
        if let f = s.firstTime, let l = s.lastTime {
            row("First packet:", "\(f.iso8601) (\(StatsReport.exactSeconds(f)))")
            row("Last packet:", "\(l.iso8601) (\(StatsReport.exactSeconds(l)))")
            row("Duration:", String(format: "%.6f s", l.seconds(since: f)))
        }
        row("IPv4 / IPv6:", "\(s.ipv4) / \(s.ipv6)")
        row("UDP / TCP / ICMP:", "\(s.udp) / \(s.tcp) / \(s.icmp)")
        row("ICMP errors quoting UDP/TCP:", "\(s.icmpErrorsQuotingTransport)")
        row("VLAN-tagged frames:", "\(s.vlanTagged)")
        row("IP fragments:", "\(s.fragments) (\(s.reassembledDatagrams) datagrams reassembled, \(s.fragmentsDroppedOverlap) dropped for overlap, \(s.fragmentDatagramsEvicted) evicted incomplete)")
        row("UDP flows:", "\(s.udpFlows)\(s.flowCountsCapped ? "+ (capped)" : "")")
        row("TCP streams:", "\(s.tcpStreams) (\(s.tcpRetransmittedSegments) retransmitted, \(s.tcpOutOfOrderSegments) out of order, \(s.tcpGaps) gaps / \(s.tcpGapBytes) bytes missing, \(s.tcpStreamsEvicted) evicted)")
        row("Other IP protocols:", "\(s.otherIPProtocols)")
        row("Not decodable:", "\(s.undecodable)")
        for (reason, n) in s.undecodableReasons.sorted(by: { $0.value > $1.value }) {
            row("  \(n)x", reason)
        }
        for e in errors { row("Error:", e) }
        return lines.joined(separator: "\n") + "\n"
    }
}
