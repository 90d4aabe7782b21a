import NetworkVocabulary
import PacketDecoding
import StunWire

/// What the dissection stage reports, in capture order (Zeek style: one
/// event per thing seen on the wire). Nested messages follow their carrier.
public enum WireEvent {
    case stunMessage(StunMessageEvent)
    case channelData(ChannelDataEvent)
    /// Bytes that claim to be STUN (magic cookie) but do not hold together.
    case malformed(MalformedEvent)
    /// A datagram, RFC 4571 frame or stream chunk that is not STUN or ChannelData.
    case otherPayload(OtherPayloadEvent)
    case icmpError(ICMPErrorEvent)
    case tcpConnection(TCPConnectionEvent)
    /// TCP bytes dropped while finding a message boundary.
    case streamSkipped(StreamSkippedEvent)
}

/// The consumer of wire events (Reconstruction, renderers). Views are not
/// involved: events are plain values and may be kept.
public protocol WireEventConsumer: AnyObject {
    func wireEvent(_ event: WireEvent)
}

/// What carried a nested message: the outer frame and how the message sat in it.
public struct MessageCarrier: Sendable {
    public enum Kind: String, Sendable {
        /// Application data of a ChannelData frame.
        case channelData = "channeldata"
        /// The DATA attribute of a Send / Data indication.
        case dataAttribute = "data"
        /// The quoted packet of an ICMP error.
        case icmp
    }

    public var kind: Kind
    /// The carrier's frame (for ICMP, the frame of the ICMP error).
    public var frame: Int
    /// The carrier's own flow (client <-> TURN server, or the ICMP packet's).
    public var flow: FiveTuple
    /// ChannelData carriers: the channel number.
    public var channel: UInt16?
    /// DATA-attribute carriers: the XOR-PEER-ADDRESS (or MS-TURN remote address).
    public var peer: Endpoint?
    /// DATA-attribute carriers: the carrying message's type (Send or Data indication).
    public var carrierType: StunMessageType?

    public init(kind: Kind, frame: Int, flow: FiveTuple, channel: UInt16? = nil, peer: Endpoint? = nil,
                carrierType: StunMessageType? = nil) {
        self.kind = kind
        self.frame = frame
        self.flow = flow
        self.channel = channel
        self.peer = peer
        self.carrierType = carrierType
    }
}

public struct StunMessageEvent {
    public var context: FrameContext
    /// The packet's flow; for nested messages the carrier's flow.
    public var flow: FiveTuple
    /// TCP stream index (tshark's `tcp.stream`) when the message came over TCP.
    public var tcpStream: Int?
    /// The message, with `fingerprint` and `integrity` results set.
    public var message: StunMessage
    /// Length and hash of the message bytes as carried (UDP payload, framed
    /// message, ChannelData application data or DATA value): what a relay
    /// forwards, so Reconstruction can pair the two legs of a relayed check.
    public var payload: PayloadSummary
    /// Set for messages found inside a ChannelData frame or a DATA attribute.
    public var carrier: MessageCarrier?

    public var transport: TransportProtocol { flow.transport }

    public init(context: FrameContext, flow: FiveTuple, tcpStream: Int? = nil, message: StunMessage, payload: PayloadSummary, carrier: MessageCarrier? = nil) {
        self.context = context
        self.flow = flow
        self.tcpStream = tcpStream
        self.message = message
        self.payload = payload
        self.carrier = carrier
    }
}

public struct ChannelDataEvent {
    public var context: FrameContext
    public var flow: FiveTuple
    public var tcpStream: Int?
    public var channel: UInt16
    /// The length field (application data bytes; MS-TURN 0xFF10: plus the 8-byte session id).
    public var length: Int
    /// The application data exactly (no header, no padding, no MS-TURN session id).
    public var payload: PayloadSummary
    /// MS-TURN multiplexed channel 0xFF10 only.
    public var msTurnSessionID: UInt64?
    /// The application data is a STUN message (a relayed ICE check, not media), reported
    /// by the next event: `.stunMessage` with this frame as its ChannelData carrier.
    public var carriesStunMessage: Bool

    public var transport: TransportProtocol { flow.transport }

    public init(context: FrameContext, flow: FiveTuple, tcpStream: Int? = nil, channel: UInt16, length: Int, payload: PayloadSummary,
                msTurnSessionID: UInt64? = nil, carriesStunMessage: Bool = false) {
        self.context = context
        self.flow = flow
        self.tcpStream = tcpStream
        self.channel = channel
        self.length = length
        self.payload = payload
        self.msTurnSessionID = msTurnSessionID
        self.carriesStunMessage = carriesStunMessage
    }
}

public struct MalformedEvent {
    public var context: FrameContext
    public var flow: FiveTuple
    public var tcpStream: Int?
    public var reason: String
    /// Whatever could be read: header fields and the attributes before the damage.
    public var partial: StunMessage?
    public var carrier: MessageCarrier?

    public var transport: TransportProtocol { flow.transport }

    public init(context: FrameContext, flow: FiveTuple, tcpStream: Int? = nil, reason: String, partial: StunMessage? = nil, carrier: MessageCarrier? = nil) {
        self.context = context
        self.flow = flow
        self.tcpStream = tcpStream
        self.reason = reason
        self.partial = partial
        self.carrier = carrier
    }
}

public struct OtherPayloadEvent {
    public var context: FrameContext
    public var flow: FiveTuple
    public var tcpStream: Int?
    /// Class, length and hash of exactly the payload (the raw UDP payload, the RFC 4571 frame body, the TCP chunk).
    public var payload: PayloadSummary
    /// True for an RFC 4571 frame body (ICE-TCP media).
    public var framed: Bool

    public var transport: TransportProtocol { flow.transport }

    public init(context: FrameContext, flow: FiveTuple, tcpStream: Int? = nil, payload: PayloadSummary, framed: Bool) {
        self.context = context
        self.flow = flow
        self.tcpStream = tcpStream
        self.payload = payload
        self.framed = framed
    }
}

public struct ICMPErrorEvent {
    public var context: FrameContext
    public var reporter: IPAddress
    public var isICMPv6: Bool
    public var type: UInt8
    public var code: UInt8
    /// "port unreachable", "TTL exceeded", ...
    public var meaning: String
    /// The quoted packet's flow, in its original direction.
    public var quotedFlow: FiveTuple
    /// The STUN message the quote starts with, when it does (possibly cut
    /// short: then `malformation` says how much was quoted).
    public var quotedMessage: StunMessage?
    /// Length and hash of the quoted transport payload.
    public var quotedPayload: PayloadSummary

    public init(context: FrameContext, reporter: IPAddress, isICMPv6: Bool, type: UInt8, code: UInt8, meaning: String, quotedFlow: FiveTuple, quotedMessage: StunMessage? = nil, quotedPayload: PayloadSummary) {
        self.context = context
        self.reporter = reporter
        self.isICMPv6 = isICMPv6
        self.type = type
        self.code = code
        self.meaning = meaning
        self.quotedFlow = quotedFlow
        self.quotedMessage = quotedMessage
        self.quotedPayload = quotedPayload
    }
}

public struct TCPConnectionEvent {
    public var context: FrameContext
    public var stream: Int
    public var flow: FiveTuple
    public var kind: TCPStreamEventKind

    public init(context: FrameContext, stream: Int, flow: FiveTuple, kind: TCPStreamEventKind) {
        self.context = context
        self.stream = stream
        self.flow = flow
        self.kind = kind
    }
}

public struct StreamSkippedEvent {
    public var context: FrameContext
    public var stream: Int
    public var flow: FiveTuple
    public var count: Int
    public var reason: SkipReason

    public init(context: FrameContext, stream: Int, flow: FiveTuple, count: Int, reason: SkipReason) {
        self.context = context
        self.stream = stream
        self.flow = flow
        self.count = count
        self.reason = reason
    }
}
