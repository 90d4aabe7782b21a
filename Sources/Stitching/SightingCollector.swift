import NetworkVocabulary
import SipWire
import StunWire
import WireEvents

/// Turns one vantage point's wire events into sightings: every top-level
/// STUN message, ChannelData frame and other payload is one sighting; a
/// message nested in a ChannelData frame or a DATA attribute names its
/// carrier's sighting instead of being one of its own (it travelled inside it).
public enum StitchLimits {
    /// Sightings one stitch keeps, all vantage points together.
    public static let sightings = 1_000_000
}

public final class SightingCollector: WireEventConsumer, SipEventConsumer {
    public let vantage: Int
    /// Every vantage's sightings, this one's appended at the end (the stitch reads them all at once).
    public private(set) var sightings: [Sighting]
    /// Sightings dropped because the stitch reached `limit`.
    public private(set) var dropped = 0
    private let limit: Int

    /// `limit` bounds the sightings of the whole stitch (each is held until the end, about
    /// 1 KiB with its share of the output: docs/stitch.md).
    public init(vantage: Int, appendingTo sightings: [Sighting] = [], limit: Int = StitchLimits.sightings) {
        self.vantage = vantage
        self.sightings = sightings
        self.limit = limit
    }

    /// Hands the array back (the collector is done with it).
    public func take() -> [Sighting] {
        defer { sightings = [] }
        return sightings
    }

    public func wireEvent(_ event: WireEvent) {
        switch event {
        case let .stunMessage(e):
            if let carrier = e.carrier {
                // The carrier is the last sighting when it is a ChannelData frame or a Send/Data indication.
                if carrier.kind != .icmp, let last = sightings.indices.last, sightings[last].frame == carrier.frame,
                   sightings[last].label.carried == nil {
                    sightings[last].label.carried = StunSummary(e.message)
                }
                return
            }
            let key = PacketKey(kind: .stun, transport: e.transport, payload: e.payload)
            append(e.context, e.flow, key, PacketLabel(stun: StunSummary(e.message), payloadClass: .stun, length: e.payload.length))
        case let .channelData(e):
            let key = PacketKey(kind: .channelData, transport: e.transport, channel: e.channel, payload: e.payload)
            append(e.context, e.flow, key, PacketLabel(channel: e.channel, payloadClass: e.payload.payloadClass, length: e.payload.length))
        case let .otherPayload(e):
            guard e.payload.length > 0 else { return }
            let key = PacketKey(kind: .other, transport: e.transport, payload: e.payload)
            append(e.context, e.flow, key, PacketLabel(payloadClass: e.payload.payloadClass, length: e.payload.length))
        case .malformed, .icmpError, .tcpConnection, .streamSkipped:
            return
        }
    }

    public func sipMessage(_ event: SipMessageEvent) {
        // Headers and body as they were on the wire; Via and Contact carry addresses a SIP ALG
        // would rewrite, and then the two sightings do not match (and are not stitched).
        var bytes: [UInt8] = []
        for h in event.message.headers {
            bytes.append(contentsOf: h.name.utf8)
            bytes.append(0x3A)
            bytes.append(contentsOf: h.value.utf8)
            bytes.append(0x0A)
        }
        bytes.append(contentsOf: event.message.body)
        let hash = bytes.withUnsafeBytes { PayloadHash.hash64($0) }
        let payload = PayloadSummary(length: event.message.wireLength, hash: hash, payloadClass: .unknown)
        let key = PacketKey(kind: .sip, transport: event.transport, payload: payload)
        let line = event.message.method ?? event.message.statusCode.map { "\($0) \(event.message.reasonPhrase ?? "")" } ?? "message"
        append(event.context, event.flow, key, PacketLabel(payloadClass: .unknown, length: event.message.wireLength, sip: line))
    }

    private func append(_ context: FrameContext, _ flow: FiveTuple, _ key: PacketKey, _ label: PacketLabel) {
        guard sightings.count < limit else {
            dropped &+= 1
            return
        }
        sightings.append(Sighting(vantage: vantage, frame: context.frame, time: context.time, flow: flow, key: key, label: label))
    }
}
