import NetworkVocabulary

/// What a datagram or relayed payload is, by the RFC 7983 first-byte rule
/// that lets STUN, ZRTP, DTLS, TURN channels and RTP/RTCP share one 5-tuple.
public enum PayloadClass: String, Sendable, CaseIterable {
    case stun
    case zrtp
    case dtls
    /// Over TCP the 20-63 range is TLS records rather than DTLS.
    case tls
    case turnChannel = "turn-channel"
    case rtp
    case rtcp
    case empty
    case unknown

    /// Classifies by the first byte (RFC 7983 section 7), and separates RTCP
    /// from RTP by the packet type byte (RFC 5761 section 4: 192-223).
    @inlinable public static func classify(_ payload: UnsafeRawBufferPointer, transport: TransportProtocol = .udp) -> PayloadClass {
        guard payload.count > 0 else { return .empty }
        switch payload[0] {
        case 0...3: return .stun
        case 16...19: return .zrtp
        case 20...63: return transport == .tcp ? .tls : .dtls
        case 64...79: return .turnChannel
        case 128...191:
            if payload.count >= 2, (192...223).contains(payload[1]) { return .rtcp }
            return .rtp
        default: return .unknown
        }
    }
}
