import NetworkVocabulary
import PacketDecoding
import SipWire
import StunWire

/// A SIP request or response seen on the wire (UDP datagram or TCP stream).
public struct SipMessageEvent {
    public var context: FrameContext
    public var flow: FiveTuple
    public var tcpStream: Int?
    public var message: SipMessage
    /// The SDP body, parsed once (offer or answer).
    public var sdp: SdpSession?

    public var transport: TransportProtocol { flow.transport }
}

/// Consumers that want SIP adopt this next to `WireEventConsumer`; others
/// never see SIP (their payloads were not STUN anyway).
public protocol SipEventConsumer: AnyObject {
    func sipMessage(_ event: SipMessageEvent)
}

/// The dissector's SIP stage: recognises SIP in datagrams that are not
/// STUN/ChannelData and in TCP streams (port 5060 or a SIP start line),
/// frames TCP by Content-Length, and hands every SDP's ice-ufrag/ice-pwd to
/// the credential store so that the ICE checks that follow can be verified.
/// Passwords the user gave (`--credentials`, `--sdp`) are not replaced by
/// ones learnt from the capture.
public final class SipDissection {
    /// Bounded: when full, the least recently used stream is forgotten.
    public let maxStreams: Int
    public private(set) var messages = 0
    public private(set) var credentialsLearnt = 0
    public private(set) var streamsEvicted = 0
    private let credentials: CredentialStore
    private struct StreamKey: Hashable {
        var stream: Int
        var flow: FiveTuple
    }
    private var framers: [StreamKey: (framer: SipStreamFramer, lastUse: Int64)] = [:]
    private var sipStreams: Set<Int> = []

    public init(credentials: CredentialStore, maxStreams: Int = 4_096) {
        self.credentials = credentials
        self.maxStreams = max(1, maxStreams)
    }

    static func sipPort(_ flow: FiveTuple) -> Bool {
        flow.source.port == WellKnownPorts.sip || flow.destination.port == WellKnownPorts.sip
    }

    /// A UDP payload that was neither STUN nor ChannelData. Returns true when it was SIP.
    func datagram(_ payload: UnsafeRawBufferPointer, context: FrameContext, flow: FiveTuple,
                  consumer: WireEventConsumer) -> Bool {
        guard let first = payload.first else { return false }
        let onPort = SipDissection.sipPort(flow)
        // SIP starts with an upper-case method or "SIP/2.0"; CRLF keepalives only count on 5060.
        guard (first >= 0x41 && first <= 0x5A) || (onPort && (first == 0x0D || first == 0x0A)) else { return false }
        if !onPort && !SipRecognizer.startsWithSipLine(payload) { return false }
        guard let message = SipParser.parse(payload, stream: false) else {
            // CRLF keepalive on the SIP port: SIP, but no message.
            return onPort && payload.allSatisfy { $0 == 0x0D || $0 == 0x0A }
        }
        deliver(message, context: context, flow: flow, tcpStream: nil, consumer: consumer)
        return true
    }

    /// TCP bytes in stream order. Returns true when the stream is SIP (then
    /// the STUN framer never sees it).
    func tcpData(_ data: TCPStreamData, consumer: WireEventConsumer) -> Bool {
        let key = StreamKey(stream: data.stream, flow: data.flow)
        let now = data.context.time.nanoseconds
        if var entry = framers[key] {
            entry.lastUse = now
            framers[key] = entry
            feed(entry.framer, data, consumer: consumer)
            return true
        }
        let known = sipStreams.contains(data.stream)
        if !known {
            // A SIP stream's bytes start with an upper-case method, "SIP/2.0" or keepalive CRLFs.
            guard let first = data.payload.first, (first >= 0x41 && first <= 0x5A) || first == 0x0D || first == 0x0A
            else { return false }
            guard SipDissection.sipPort(data.flow) || SipRecognizer.startsWithSipLine(data.payload) else { return false }
        }
        if framers.count >= maxStreams, let oldest = framers.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            framers.removeValue(forKey: oldest)
            streamsEvicted &+= 1
        }
        if sipStreams.count >= maxStreams * 2 { sipStreams.removeAll(keepingCapacity: true) }
        sipStreams.insert(data.stream)
        let framer = SipStreamFramer(synced: data.streamOffset == 0)
        framers[key] = (framer, now)
        feed(framer, data, consumer: consumer)
        return true
    }

    private func feed(_ framer: SipStreamFramer, _ data: TCPStreamData, consumer: WireEventConsumer) {
        framer.feed(data.payload) { message in
            self.deliver(message, context: data.context, flow: data.flow, tcpStream: data.stream, consumer: consumer)
        }
    }

    func gap(stream: Int, flow: FiveTuple) {
        framers[StreamKey(stream: stream, flow: flow)]?.framer.gap()
    }

    func closed(stream: Int) {
        guard sipStreams.remove(stream) != nil else { return }
        for key in framers.keys where key.stream == stream { framers.removeValue(forKey: key) }
    }

    private func deliver(_ message: SipMessage, context: FrameContext, flow: FiveTuple, tcpStream: Int?,
                         consumer: WireEventConsumer) {
        messages &+= 1
        let sdp = message.sdp
        if let sdp { learn(sdp) }
        (consumer as? SipEventConsumer)?.sipMessage(SipMessageEvent(context: context, flow: flow, tcpStream: tcpStream,
                                                                    message: message, sdp: sdp))
    }

    /// ice-ufrag / ice-pwd pairs become short-term credentials (the key for
    /// checks whose USERNAME starts with this ufrag).
    func learn(_ sdp: SdpSession) {
        for (ufrag, password) in sdp.iceCredentials where !credentials.hasShortTerm(username: ufrag) {
            credentials.addShortTerm(username: ufrag, password: password)
            credentialsLearnt &+= 1
        }
    }
}
