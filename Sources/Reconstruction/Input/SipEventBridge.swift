import SipWire
import WireEvents

/// Feeds SIP messages from the dissector into the SIP call tracker, and SDP
/// given with `--sdp` into the same place as SDP found in the capture.
extension SessionReconstructor: SipEventConsumer {
    public func sipMessage(_ event: SipMessageEvent) {
        sipMessage(ObservedSipMessage(context: event.context, flow: event.flow, message: event.message, sdp: event.sdp))
    }

    /// Offer/answer SDP from outside the capture (`--sdp FILE`): its
    /// candidates count as signalled for the ICE sessions with its ufrags.
    public func signalledSdp(_ sdp: SdpSession, source: String) {
        sip.addExternal(sdp, source: source)
    }
}
