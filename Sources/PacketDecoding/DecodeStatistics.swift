import NetworkVocabulary

/// Counters a capinfos-like overview needs, kept by the decoder as it goes.
public struct DecodeStatistics: Sendable {
    public var packets = 0
    public var bytes = 0          // captured bytes
    public var wireBytes = 0      // original lengths
    public var firstTime: CaptureTime?
    public var lastTime: CaptureTime?
    public var linkTypes: [String] = []
    public var ipv4 = 0
    public var ipv6 = 0
    public var udp = 0
    public var tcp = 0
    public var icmp = 0
    public var icmpErrorsQuotingTransport = 0
    public var vlanTagged = 0
    public var fragments = 0
    public var reassembledDatagrams = 0
    public var fragmentsDroppedOverlap = 0
    public var fragmentDatagramsEvicted = 0
    public var tcpStreams = 0
    public var tcpRetransmittedSegments = 0
    public var tcpGaps = 0
    public var tcpGapBytes: UInt64 = 0
    public var tcpOutOfOrderSegments = 0
    public var tcpStreamsEvicted = 0
    public var udpFlows = 0
    public var tcpConnections = 0
    /// True when the flow sets hit their cap and counts above it are lower bounds.
    public var flowCountsCapped = false
    public var undecodable = 0
    public var undecodableReasons: [String: Int] = [:]
    /// Frames that are IP but carry neither UDP, TCP nor ICMP.
    public var otherIPProtocols = 0

    public init() {}

    mutating func noteUndecodable(_ reason: String) {
        undecodable &+= 1
        undecodableReasons[reason, default: 0] &+= 1
    }
}
