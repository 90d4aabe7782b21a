import StunWire
import WireEvents

/// Feeds the dissector's events into the reconstructors.
extension SessionReconstructor: WireEventConsumer {
    public func wireEvent(_ event: WireEvent) {
        switch event {
        case let .stunMessage(e):
            // Quoted messages are reported through icmpError.
            if e.carrier?.kind == .icmp { return }
            if e.message.fingerprint == .invalid { fingerprintInvalid(e.context) }
            stunMessage(ObservedStunMessage(e.message, context: e.context, flow: e.flow, payloadHash: e.payload.hash,
                                            payloadLength: e.payload.length, carrier: e.carrier))
        case let .channelData(e):
            channelData(ObservedChannelData(context: e.context, flow: e.flow, channel: e.channel,
                                            length: e.payload.length, payloadHash: e.payload.hash,
                                            carriesStun: e.carriesStunMessage))
        case let .malformed(e):
            // A damaged answer still names the transaction it answers (the header was readable).
            var answers: String?
            if let p = e.partial, p.messageClass == .success || p.messageClass == .error {
                answers = p.transactionID.hex
            }
            malformed(e.context, reason: e.reason, flow: e.flow, answersTransaction: answers)
        case let .otherPayload(e):
            datagram(ObservedDatagram(context: e.context, flow: e.flow, length: e.payload.length,
                                      payloadHash: e.payload.hash, kind: e.payload.payloadClass.rawValue))
        case let .icmpError(e):
            icmpError(e.context, quotedFlow: e.quotedFlow, reporter: e.reporter, meaning: e.meaning,
                      quotesStun: e.quotedMessage != nil)
        case let .tcpConnection(e):
            if case .closed = e.kind { tcpClosed(e.flow, context: e.context) }
        case .streamSkipped:
            break
        }
    }
}
