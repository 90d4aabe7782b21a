/// The 16-bit STUN message type: two zero bits, then method and class bits
/// interleaved as M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 section 5).
public struct StunMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public init(method: StunMethod, messageClass: StunMessageClass) {
        let m = method.rawValue
        let c = UInt16(messageClass.rawValue)
        rawValue = (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2)
            | ((c & 0x1) << 4) | ((c & 0x2) << 7)
    }

    public var method: StunMethod {
        StunMethod(rawValue: (rawValue & 0x000F) | ((rawValue & 0x00E0) >> 1) | ((rawValue & 0x3E00) >> 2))
    }

    public var messageClass: StunMessageClass {
        StunMessageClass(rawValue: UInt8(truncatingIfNeeded: ((rawValue & 0x0010) >> 4) | ((rawValue & 0x0100) >> 7)))!
    }

    /// `0x0101`.
    public var description: String {
        let digits = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Message types RFC 3489 and the pre-RFC 5766 TURN drafts (still spoken
    /// by MS-TURN) defined. A cookie-less message is only believed when its
    /// type is one of these, because without the cookie the header carries
    /// almost no redundancy.
    public var isClassicType: Bool {
        switch rawValue {
        case 0x0001, 0x0101, 0x0111,  // Binding
             0x0002, 0x0102, 0x0112,  // Shared Secret
             0x0003, 0x0103, 0x0113,  // Allocate (TURN draft / MS-TURN)
             0x0004, 0x0104, 0x0114,  // Send (TURN draft / MS-TURN)
             0x0115,                  // Data Indication (MS-TURN)
             0x0006, 0x0106, 0x0116:  // Set Active Destination (MS-TURN)
            return true
        default:
            return false
        }
    }
}
