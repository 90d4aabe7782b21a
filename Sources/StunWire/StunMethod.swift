/// A STUN method: the 12 method bits of the message type.
///
/// Unknown methods (WhatsApp's 0x200 family, vendor experiments) are kept as
/// numbers and named by number, so nothing on the wire is lost.
public struct StunMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }

    public static let binding = StunMethod(rawValue: 0x001)           // RFC 8489
    public static let sharedSecret = StunMethod(rawValue: 0x002)      // RFC 3489
    public static let allocate = StunMethod(rawValue: 0x003)          // RFC 8656
    public static let refresh = StunMethod(rawValue: 0x004)           // RFC 8656
    public static let send = StunMethod(rawValue: 0x006)              // RFC 8656
    public static let data = StunMethod(rawValue: 0x007)              // RFC 8656
    public static let createPermission = StunMethod(rawValue: 0x008)  // RFC 8656
    public static let channelBind = StunMethod(rawValue: 0x009)       // RFC 8656
    public static let connect = StunMethod(rawValue: 0x00A)           // RFC 6062
    public static let connectionBind = StunMethod(rawValue: 0x00B)    // RFC 6062
    public static let connectionAttempt = StunMethod(rawValue: 0x00C) // RFC 6062
    public static let googPing = StunMethod(rawValue: 0x080)          // libwebrtc GOOG-PING

    /// The name under RFC 5389/8489 numbering, e.g. `Allocate`, `ChannelBind`;
    /// unknown methods are named by number (`0x200`).
    public var name: String {
        switch rawValue {
        case 0x001: return "Binding"
        case 0x002: return "SharedSecret"
        case 0x003: return "Allocate"
        case 0x004: return "Refresh"
        case 0x006: return "Send"
        case 0x007: return "Data"
        case 0x008: return "CreatePermission"
        case 0x009: return "ChannelBind"
        case 0x00A: return "Connect"
        case 0x00B: return "ConnectionBind"
        case 0x00C: return "ConnectionAttempt"
        case 0x080: return "GOOG-PING"
        default: return StunMethod.numberName(rawValue)
        }
    }

    /// The name in the classic / MS-TURN numbering (RFC 3489 and the TURN
    /// drafts MS-TURN froze), where 0x004 is Send, 0x005 Data and 0x006
    /// SetActiveDestination.
    public var classicName: String {
        switch rawValue {
        case 0x001: return "Binding"
        case 0x002: return "SharedSecret"
        case 0x003: return "Allocate"
        case 0x004: return "Send"
        case 0x005: return "Data"
        case 0x006: return "SetActiveDestination"
        default: return StunMethod.numberName(rawValue)
        }
    }

    /// True for the methods that only exist between a TURN client and server.
    public var isTURN: Bool {
        switch rawValue {
        case 0x003, 0x004, 0x006, 0x007, 0x008, 0x009, 0x00A, 0x00B, 0x00C: return true
        default: return false
        }
    }

    public var description: String { name }

    static func numberName(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
