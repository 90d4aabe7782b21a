import NetworkVocabulary
import StunWire

/// What makes two captured datagrams the same datagram, wherever they were
/// captured: the bytes a NAT does not touch. A NAT rewrites IP addresses and
/// ports but not the UDP payload (STUN's XOR-encoded addresses and
/// FINGERPRINT are in the payload, so they survive), so the payload's length
/// and hash, with what kind of payload it is, identify one datagram seen at
/// several vantage points.
public struct PacketKey: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        case stun
        /// ChannelData: the hash covers the application data; the channel is part of the key.
        case channelData
        /// Anything else (relay-leg media, DTLS, RTP): the whole payload.
        case other
        /// A SIP message: its headers and body (a NAT without a SIP ALG leaves them alone).
        case sip
    }

    public var kind: Kind
    public var transport: TransportProtocol
    public var channel: UInt16
    public var length: Int
    public var hash: UInt64

    public init(kind: Kind, transport: TransportProtocol, channel: UInt16 = 0, payload: PayloadSummary) {
        self.kind = kind
        self.transport = transport
        self.channel = channel
        self.length = payload.length
        self.hash = payload.hash
    }
}

/// A STUN message reduced to what a stitched timeline names it by.
public struct StunSummary: Hashable, Sendable {
    public var method: String
    public var messageClass: StunMessageClass
    public var transactionID: StunTransactionID
    /// USERNAME, when present (ICE checks: `remote:local` ufrags).
    public var username: String?
    /// XOR-RELAYED-ADDRESS (an Allocate success: the allocation's relayed address).
    public var relayed: Endpoint?

    public init(_ message: StunMessage) {
        method = message.methodName
        messageClass = message.messageClass
        transactionID = message.transactionID
        username = message.username
        relayed = message.messageClass == .success ? message.xorRelayedAddresses.first : nil
    }

    /// `Binding request`, `Allocate error`.
    public var name: String { "\(method) \(messageClass.name)" }
}

/// What one captured datagram is, for the reader: a STUN message, a
/// ChannelData frame (and the STUN message it carries, for relayed ICE
/// checks), or another payload.
public struct PacketLabel: Hashable, Sendable {
    public var stun: StunSummary?
    public var channel: UInt16?
    /// The STUN message inside a ChannelData frame or a Send/Data indication's DATA.
    public var carried: StunSummary?
    public var payloadClass: PayloadClass
    public var length: Int
    /// SIP: the start line (from the packet: escape it where it is printed).
    public var sip: String?

    public init(stun: StunSummary? = nil, channel: UInt16? = nil, carried: StunSummary? = nil,
                payloadClass: PayloadClass, length: Int, sip: String? = nil) {
        self.stun = stun
        self.channel = channel
        self.carried = carried
        self.sip = sip
        self.payloadClass = payloadClass
        self.length = length
    }

    /// The STUN message a transaction table files this datagram under: its own, or the one it carries.
    public var transactionMessage: StunSummary? { stun ?? carried }

    /// `Binding request`, `ChannelData 0x4000 (Binding request)`, `rtp, 172 bytes`.
    public var summary: String {
        if let stun {
            if let carried { return "\(stun.name) (\(carried.name))" }
            return stun.name
        }
        if let channel {
            let number = "0x" + String(channel, radix: 16)
            if let carried { return "ChannelData \(number) (\(carried.name))" }
            return "ChannelData \(number), \(length) bytes"
        }
        if let sip { return "SIP \(sip)" }
        return "\(payloadClass.rawValue), \(length) bytes"
    }
}

/// One datagram (or one framed message on a TCP stream) as one vantage point captured it.
public struct Sighting: Sendable {
    public var vantage: Int
    public var frame: Int
    /// The capture's own clock.
    public var time: CaptureTime
    public var flow: FiveTuple
    public var key: PacketKey
    public var label: PacketLabel

    public init(vantage: Int, frame: Int, time: CaptureTime, flow: FiveTuple, key: PacketKey, label: PacketLabel) {
        self.vantage = vantage
        self.frame = frame
        self.time = time
        self.flow = flow
        self.key = key
        self.label = label
    }
}
