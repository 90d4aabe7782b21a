import NetworkVocabulary
import PacketDecoding
import StunWire

/// The dissection stage: receives UDP datagrams, TCP stream bytes and ICMP
/// errors from PacketDecoding, finds STUN messages and ChannelData frames in
/// them (any port, by heuristics), checks FINGERPRINT and MESSAGE-INTEGRITY,
/// dissects STUN nested in ChannelData and DATA attributes, and reports
/// everything else by its RFC 7983 class. Every table is bounded.
///
/// The per-datagram path for ChannelData and non-STUN payloads allocates
/// nothing; STUN messages allocate their attribute array.
public final class WireDissector: TransportSink {
    public struct Configuration {
        /// Either port in this set makes a 5-tuple TURN (ChannelData allowed on it).
        public var turnServerPorts = WellKnownPorts.stunServer
        public var maxKnownTurnFlows = 65_536
        public var turnFlowIdleTimeoutSeconds = 3_600.0
        /// At least PacketDecoding's own connection bound, so that its evictions
        /// (reported as `closed`) normally come first.
        public var maxTCPStreams = 65_536
        public var maxIntegrityTransactions = 65_536
        /// ChannelData in DATA in ChannelData ... is dissected this deep.
        public var maxNestingDepth = 2

        public init() {}
    }

    public let consumer: WireEventConsumer
    public let configuration: Configuration
    public let verifier: IntegrityVerifier
    private var counters = WireStatistics()
    /// Attribute-list storage and recent strings lent to each message's decoding.
    private var decoding = StunDecodingScratch()
    private let turnFlows: TurnFlowTable
    private let streams: TCPStreamTable
    /// SIP and its SDP (SipDissection.swift): ice-pwd from SDP feeds `verifier.credentials`.
    public let sip: SipDissection

    public init(consumer: WireEventConsumer, credentials: CredentialStore = CredentialStore(),
                configuration: Configuration = Configuration()) {
        self.consumer = consumer
        self.configuration = configuration
        self.verifier = IntegrityVerifier(credentials: credentials,
                                          transactionCapacity: configuration.maxIntegrityTransactions)
        self.turnFlows = TurnFlowTable(serverPorts: configuration.turnServerPorts,
                                       capacity: configuration.maxKnownTurnFlows,
                                       idleTimeoutSeconds: configuration.turnFlowIdleTimeoutSeconds)
        self.streams = TCPStreamTable(capacity: configuration.maxTCPStreams)
        self.sip = SipDissection(credentials: credentials)
    }

    public var statistics: WireStatistics {
        var s = counters
        s.turnFlowsEvicted = turnFlows.evicted
        s.tcpStreamsEvicted = streams.evicted
        s.integrityTransactionsEvicted = verifier.evictedTransactions
        return s
    }

    // MARK: TransportSink

    public func udpDatagram(_ datagram: UDPDatagram) {
        counters.udpDatagrams &+= 1
        dissectDatagram(datagram.payload, context: datagram.context, flow: datagram.flow)
    }

    public func tcpData(_ data: TCPStreamData) {
        counters.tcpChunks &+= 1
        if sip.tcpData(data, consumer: consumer) { return }
        let now = data.context.time.nanoseconds
        let tracked = streams.stream(data.stream, flow: data.flow, connectionStart: data.streamOffset == 0, now: now)
        let direction = tracked.direction(for: data.flow, channelDataAllowed: false)
        direction.framer.channelDataAllowed = turnFlows.isTurn(data.flow, at: data.context.time)
        direction.framer.feed(data.payload) { unit in
            self.streamUnit(unit, direction: direction, stream: data.stream, context: data.context)
        }
    }

    public func tcpEvent(_ event: TCPStreamEvent) {
        let now = event.context.time.nanoseconds
        switch event.kind {
        case let .opened(sawHandshake):
            _ = streams.stream(event.stream, flow: event.flow, connectionStart: sawHandshake, now: now)
        case .gap:
            sip.gap(stream: event.stream, flow: event.flow)
            streams.existing(event.stream)?.existingDirection(for: event.flow)?.framer.gap()
        case .closed:
            sip.closed(stream: event.stream)
            if let tracked = streams.remove(event.stream) {
                for direction in [tracked.forward, tracked.backward].compactMap({ $0 }) {
                    direction.framer.finish { unit in
                        self.streamUnit(unit, direction: direction, stream: event.stream, context: event.context)
                    }
                }
            }
        }
        consumer.wireEvent(.tcpConnection(TCPConnectionEvent(context: event.context, stream: event.stream,
                                                             flow: event.flow, kind: event.kind)))
    }

    public func icmpError(_ error: ICMPError) {
        counters.icmpErrors &+= 1
        // Linux quotes the whole packet, so try a complete message (classic too) before a cut-off prefix.
        let view = StunMessageView.recognize(error.quotedPayload) ?? StunMessageView.recognizePrefix(error.quotedPayload)
        let quoted = view.map(StunMessage.init)
        consumer.wireEvent(.icmpError(ICMPErrorEvent(
            context: error.context, reporter: error.reporter, isICMPv6: error.isICMPv6, type: error.type,
            code: error.code, meaning: error.meaning, quotedFlow: error.quotedFlow, quotedMessage: quoted,
            quotedPayload: PayloadSummary(error.quotedPayload, transport: error.quotedFlow.transport))))
    }

    /// Flushes partial TCP messages of connections still open.
    public func finish() {
        for tracked in streams.all {
            for direction in [tracked.forward, tracked.backward].compactMap({ $0 }) {
                let context = FrameContext(frame: 0, time: CaptureTime(nanoseconds: tracked.lastSeen))
                direction.framer.finish { unit in
                    self.streamUnit(unit, direction: direction, stream: tracked.stream, context: context)
                }
            }
        }
    }

    // MARK: Datagrams

    private func dissectDatagram(_ payload: UnsafeRawBufferPointer, context: FrameContext, flow: FiveTuple) {
        if payload.count > 0 {
            let first = payload[0]
            if first < 64, let view = StunMessageView.recognize(payload), first < 20 || view.malformation == nil {
                stunMessage(view, context: context, flow: flow, tcpStream: nil, carrier: nil, depth: 0)
                return
            }
            // The cheap shape check first: most datagrams on a TURN 5-tuple are not looked up at all.
            if first >= 0x40, let frame = ChannelDataView.datagram(payload), turnFlows.isTurn(flow, at: context.time) {
                channelData(frame, context: context, flow: flow, tcpStream: nil, depth: 0)
                return
            }
        }
        if sip.datagram(payload, context: context, flow: flow, consumer: consumer) { return }
        counters.otherPayloads &+= 1
        consumer.wireEvent(.otherPayload(OtherPayloadEvent(context: context, flow: flow, tcpStream: nil,
                                                           payload: PayloadSummary(payload), framed: false)))
    }

    // MARK: TCP units

    private func streamUnit(_ unit: StreamUnit, direction: StreamDirection, stream: Int, context: FrameContext) {
        let flow = direction.flow
        switch unit {
        case let .stun(bytes):
            guard let view = StunMessageView.recognize(bytes) else {
                malformed("not a STUN message where the stream framing expected one", partial: nil,
                          context: context, flow: flow, tcpStream: stream, carrier: nil)
                return
            }
            let message = stunMessage(view, context: context, flow: flow, tcpStream: stream, carrier: nil, depth: 0)
            // RFC 6062 section 4.3: after ConnectionBind the connection carries raw peer data.
            if let message, message.dialect == .rfc5389, message.method == .connectionBind,
               message.type.messageClass == .request || message.type.messageClass == .success {
                direction.framer.switchToPassthrough()
            }
        case let .channelData(frame):
            channelData(frame, context: context, flow: flow, tcpStream: stream, depth: 0)
        case let .framedOther(bytes):
            counters.otherPayloads &+= 1
            consumer.wireEvent(.otherPayload(OtherPayloadEvent(context: context, flow: flow, tcpStream: stream,
                                                               payload: PayloadSummary(bytes, transport: .udp), framed: true)))
        case let .unframed(bytes):
            counters.otherPayloads &+= 1
            consumer.wireEvent(.otherPayload(OtherPayloadEvent(context: context, flow: flow, tcpStream: stream,
                                                               payload: PayloadSummary(bytes, transport: .tcp), framed: false)))
        case let .skipped(count, reason):
            counters.tcpBytesSkipped &+= count
            consumer.wireEvent(.streamSkipped(StreamSkippedEvent(context: context, stream: stream, flow: flow,
                                                                 count: count, reason: reason)))
        }
    }

    // MARK: STUN and ChannelData

    /// Reports one message (and what its DATA attribute carries); returns its type and dialect
    /// when it was well formed.
    @discardableResult
    private func stunMessage(_ view: StunMessageView, context: FrameContext, flow: FiveTuple, tcpStream: Int?,
                             carrier: MessageCarrier?, depth: Int) -> (type: StunMessageType, method: StunMethod, dialect: StunDialect)? {
        var message = StunMessage(view, scratch: &decoding, depth: depth)
        // Once the events are delivered the list's storage serves the next message at this depth.
        defer { decoding.recycle(&message, depth: depth) }
        if let reason = message.malformation {
            malformed(reason, partial: message, context: context, flow: flow, tcpStream: tcpStream, carrier: carrier)
            return nil
        }
        verifier.verify(view, &message)
        if carrier == nil && WireDissector.marksTurn(message) {
            turnFlows.markTurn(flow, at: context.time)
        }
        counters.stunMessages &+= 1
        if carrier != nil { counters.nestedStunMessages &+= 1 }
        consumer.wireEvent(.stunMessage(StunMessageEvent(context: context, flow: flow, tcpStream: tcpStream,
                                                         message: message, payload: PayloadSummary(view.bytes),
                                                         carrier: carrier)))
        if depth < configuration.maxNestingDepth, let data = view.firstValue(of: .data), let nested = WireDissector.nested(data) {
            let inner = MessageCarrier(kind: .dataAttribute, frame: context.frame, flow: flow,
                                       peer: message.peerAddresses.first, carrierType: message.type)
            stunMessage(nested, context: context, flow: flow, tcpStream: tcpStream, carrier: inner, depth: depth + 1)
        }
        return (message.type, message.method, message.dialect)
    }

    private func channelData(_ frame: ChannelDataView, context: FrameContext, flow: FiveTuple, tcpStream: Int?, depth: Int) {
        counters.channelDataFrames &+= 1
        // Recognised before the frame is reported, so that its event can say whether it carries media.
        let nested = depth < configuration.maxNestingDepth ? WireDissector.nested(frame.payload) : nil
        consumer.wireEvent(.channelData(ChannelDataEvent(context: context, flow: flow, tcpStream: tcpStream,
                                                         channel: frame.channel, length: frame.declaredLength,
                                                         payload: PayloadSummary(frame.payload),
                                                         msTurnSessionID: frame.msTurnSessionID,
                                                         carriesStunMessage: nested.map { $0.malformation == nil } ?? false)))
        if let nested {
            let carrier = MessageCarrier(kind: .channelData, frame: context.frame, flow: flow, channel: frame.channel)
            stunMessage(nested, context: context, flow: flow, tcpStream: tcpStream, carrier: carrier, depth: depth + 1)
        }
    }

    /// STUN relayed inside TURN (ICE checks through a relay): the message to dissect in a
    /// ChannelData payload or DATA value, or nil when it is not STUN. One with a malformation
    /// is reported as malformed (`stunMessage`), not as a message.
    private static func nested(_ payload: UnsafeRawBufferPointer) -> StunMessageView? {
        guard payload.count > 0, payload[0] < 64, let view = StunMessageView.recognize(payload) else { return nil }
        if view.malformation != nil && payload[0] >= 20 { return nil }
        return view
    }

    private func malformed(_ reason: String, partial: StunMessage?, context: FrameContext, flow: FiveTuple,
                           tcpStream: Int?, carrier: MessageCarrier?) {
        counters.malformed &+= 1
        consumer.wireEvent(.malformed(MalformedEvent(context: context, flow: flow, tcpStream: tcpStream,
                                                     reason: reason, partial: partial, carrier: carrier)))
    }

    /// A message that only a TURN client or server sends, or TURN attributes
    /// on an unknown method (FaceTime-style stacks use custom methods).
    static func marksTurn(_ message: StunMessage) -> Bool {
        if message.isTURN { return true }
        return message.attributes.contains { a in
            switch a.type {
            case .xorRelayedAddress, .xorPeerAddress, .channelNumber, .requestedTransport, .data,
                 .reservationToken, .evenPort, .msMultiplexedTurnSessionID:
                return message.dialect == .rfc5389 || a.type == .msMultiplexedTurnSessionID || a.type == .data
            default:
                return false
            }
        }
    }
}
