import NetworkVocabulary

/// A UDP datagram; `payload` is borrowed for the duration of the sink call.
public struct UDPDatagram {
    public var context: FrameContext
    public var flow: FiveTuple
    public var payload: UnsafeRawBufferPointer
    /// True when IP fragments were reassembled to form it.
    public var reassembled: Bool
}

/// In-order bytes of one direction of a TCP connection.
public struct TCPStreamData {
    public var context: FrameContext
    /// tshark-style stream index (0-based, in order of first appearance).
    public var stream: Int
    /// Direction of these bytes.
    public var flow: FiveTuple
    /// Offset of `payload`'s first byte within this direction's byte stream.
    public var streamOffset: UInt64
    public var payload: UnsafeRawBufferPointer
}

public enum TCPStreamEventKind: Equatable, Sendable {
    /// First packet of a connection seen (`sawHandshake`: it was a SYN).
    case opened(sawHandshake: Bool)
    /// Bytes that never arrived: consumers must resynchronise their framing.
    case gap(missingBytes: UInt64)
    case closed(reason: TCPCloseReason)
}

public enum TCPCloseReason: String, Sendable {
    case fin, reset, idleEvicted = "idle-evicted", capacityEvicted = "capacity-evicted", endOfCapture = "end-of-capture"
}

public struct TCPStreamEvent {
    public var context: FrameContext
    public var stream: Int
    /// For `gap` the direction that lost bytes; otherwise the client -> server direction
    /// (the SYN's sender when seen, else the first packet's sender).
    public var flow: FiveTuple
    public var kind: TCPStreamEventKind
}

/// An ICMP/ICMPv6 error quoting a UDP or TCP packet: failures of TURN and
/// ICE often show up only as "port unreachable".
public struct ICMPError {
    public var context: FrameContext
    /// Who sent the ICMP (a router or the destination host).
    public var reporter: IPAddress
    public var isICMPv6: Bool
    public var type: UInt8
    public var code: UInt8
    /// The quoted packet's flow, in its original direction.
    public var quotedFlow: FiveTuple
    /// Whatever the quote holds after the transport header (often the start of a STUN message).
    public var quotedPayload: UnsafeRawBufferPointer

    /// "port unreachable", "host unreachable", "TTL exceeded", ...
    public var meaning: String {
        if isICMPv6 {
            switch (type, code) {
            case (1, 4): return "port unreachable"
            case (1, 0): return "no route to destination"
            case (1, 1): return "administratively prohibited"
            case (1, 3): return "address unreachable"
            case (1, _): return "destination unreachable (code \(code))"
            case (2, _): return "packet too big"
            case (3, _): return "hop limit exceeded"
            case (4, _): return "parameter problem"
            default: return "ICMPv6 type \(type) code \(code)"
            }
        }
        switch (type, code) {
        case (3, 3): return "port unreachable"
        case (3, 1): return "host unreachable"
        case (3, 0): return "network unreachable"
        case (3, 4): return "fragmentation needed"
        case (3, 9), (3, 10), (3, 13): return "administratively prohibited"
        case (3, _): return "destination unreachable (code \(code))"
        case (11, _): return "TTL exceeded"
        case (12, _): return "parameter problem"
        case (4, _): return "source quench"
        case (5, _): return "redirect"
        default: return "ICMP type \(type) code \(code)"
        }
    }
}

/// The consumer of decoded units (the dissection stage). Views passed in are
/// valid only during the call.
public protocol TransportSink: AnyObject {
    func udpDatagram(_ datagram: UDPDatagram)
    func tcpData(_ data: TCPStreamData)
    func tcpEvent(_ event: TCPStreamEvent)
    func icmpError(_ error: ICMPError)
}
