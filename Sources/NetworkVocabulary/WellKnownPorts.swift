/// The port numbers StunScope reads meaning into, in one place.
public enum WellKnownPorts {
    /// STUN and TURN over UDP and TCP (RFC 8489, RFC 8656).
    public static let stun: UInt16 = 3478
    /// STUN and TURN over TLS and DTLS.
    public static let stuns: UInt16 = 5349
    /// SIP over UDP and TCP (RFC 3261).
    public static let sip: UInt16 = 5060
    /// SIP over TLS (never readable in a capture).
    public static let sips: UInt16 = 5061
    public static let http: UInt16 = 80
    public static let https: UInt16 = 443

    /// A STUN/TURN server's default ports: a 5-tuple with either is TURN from its first packet.
    public static let stunServer: Set<UInt16> = [stun, stuns]
    /// Where a client likely talks to a TURN server when nothing else says so:
    /// the default ports, and the web ports TURN is often deployed on to cross firewalls.
    public static let likelyTurnServer: Set<UInt16> = [stun, stuns, https, http]
}
