import NetworkVocabulary
import PacketDecoding
import StunWire

/// What a template datagram carries, parsed once when the template is loaded
/// so that every replay only rewrites values and writes them out.
indirect enum TemplatePayload {
    /// An RFC 5389+ STUN message filling the bytes exactly; `data` is its
    /// DATA attribute's value (a Send/Data indication's relayed payload),
    /// itself parsed.
    case stun(StunMessage, data: TemplatePayload?)
    /// A TURN ChannelData message (RFC 8656 12.4) on a flow with the
    /// server's port: the channel number, the bytes between it and the
    /// application data (the length field, MS-TURN's session id), the
    /// application data, and the padding after it.
    case channelData(channel: UInt16, framing: [UInt8], body: TemplatePayload, padding: [UInt8])
    /// Application data (RTP, DTLS, test payloads), or anything else.
    case application([UInt8])

    /// Parses `bytes`. A STUN message must come back byte for byte from
    /// `StunMessage.emit`, which writes it in every replay; one that does not
    /// (malformed, or not in canonical form) makes the template unusable,
    /// rather than be written differently or left with a stale FINGERPRINT.
    init(parsing bytes: UnsafeRawBufferPointer, channelDataAllowed: Bool) throws {
        // Only messages with the cookie: without it, bytes of relayed data could pass for classic STUN.
        if let view = StunMessageView.recognize(bytes), !view.isClassic,
           StunHeader.length + view.declaredLength == bytes.count {
            if let malformation = view.malformation {
                throw SynthError("malformed STUN message \(view.transactionID): \(malformation)")
            }
            let message = StunMessage(view)
            let dataValue = view.firstValue(of: .data)
            let data = try dataValue.map { try TemplatePayload(parsing: $0, channelDataAllowed: false) }
            let written: [UInt8]
            do {
                written = try message.emitted(data: dataValue.map { Array($0) })
            } catch {
                throw SynthError("STUN message \(message.transactionID) cannot be written again: \(error)")
            }
            guard written.elementsEqual(bytes) else {
                throw SynthError("STUN message \(message.transactionID) is not in canonical form (reserved bits, UTF-8 or FINGERPRINT)")
            }
            self = .stun(message, data: data)
            return
        }
        if channelDataAllowed, let frame = ChannelDataView.datagram(bytes) {
            // MS-TURN's multiplexed channel puts an 8-byte session id before the data, inside the length.
            let bodyStart = ChannelDataView.headerLength + (frame.msTurnSessionID == nil ? 0 : 8)
            let bodyEnd = ChannelDataView.headerLength + frame.declaredLength
            self = .channelData(channel: frame.channel,
                                framing: Array(bytes[2..<bodyStart]),
                                body: try TemplatePayload(parsing: frame.payload, channelDataAllowed: false),
                                padding: Array(bytes[bodyEnd...]))
            return
        }
        self = .application(Array(bytes))
    }

    /// The relayed application data is STUN: a relayed ICE check (in a
    /// ChannelData message or a Send/Data indication), or a STUN message
    /// that is not a Send/Data indication.
    var carriesStun: Bool {
        switch self {
        case let .stun(message, data):
            guard message.method == .send || message.method == .data else { return true }
            if case .stun = data { return true }
            return false
        case let .channelData(_, _, body, _):
            if case .stun = body { return true }
            return false
        case .application:
            return false
        }
    }

    /// Attributes carrying endpoints a replay moves (IPv4 only; IPv6 ones
    /// keep their address, XOR-ed again for the new id by `emit`).
    static let movedAddressAttributes: Set<StunAttributeType> = [
        .xorPeerAddress, .xorRelayedAddress, .xorMappedAddress, .msXorMappedAddress,
        .mappedAddress, .responseAddress, .sourceAddress, .changedAddress, .reflectedFrom,
        .alternateServer, .responseOrigin, .otherAddress,
    ]

    /// The STUN message, when the payload is one.
    var stunMessage: StunMessage? {
        if case let .stun(message, _) = self { return message }
        return nil
    }
}
