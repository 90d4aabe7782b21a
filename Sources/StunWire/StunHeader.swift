/// Fixed facts of the STUN header (RFC 8489 section 5).
public enum StunHeader {
    /// Bytes 4..<8 of every RFC 5389+ message; absent in classic RFC 3489.
    public static let magicCookie: UInt32 = 0x2112_A442
    public static let length = 20
    public static let attributeHeaderLength = 4
    /// The value of MS-TURN's MAGIC-COOKIE attribute (0x000F).
    public static let msTurnMagicCookie: UInt32 = 0x72C6_4BC6
}

/// How a message spells its attributes: RFC 5389 and later pad every value
/// to 4 bytes; RFC 3489 did not need to; MS-TURN (recognised by its
/// MAGIC-COOKIE attribute coming first) keeps the TURN draft numbering, in
/// which 0x0014 is NONCE, 0x0015 REALM and 0x0012 an un-XORed REMOTE-ADDRESS.
public enum StunDialect: String, Sendable {
    case rfc5389
    case classic
    case msTurn
}
