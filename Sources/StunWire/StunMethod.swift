/// A STUN method: the 12 method bits of the message type.
///
/// Unknown methods (WhatsApp's 0x200 family, vendor experiments) are kept as
/// numbers and named by number, so nothing on the wire is lost. What a number
/// means depends on the dialect (`meaning(in:)`): these constants are the
/// RFC 5389/8489 numbering.
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

    /// What this number means in `dialect`. RFC 3489 stacks and MS-TURN keep
    /// the numbering of the TURN drafts MS-TURN froze: 0x004 is Send, 0x005
    /// Data and 0x006 SetActiveDestination, and nothing above 0x006 is
    /// defined. RFC 5766 gave 0x004 to Refresh and moved Send and Data to
    /// 0x006 and 0x007.
    public func meaning(in dialect: StunDialect) -> StunMethodMeaning {
        if dialect != .rfc5389 {
            switch rawValue {
            case 0x001: return .binding
            case 0x002: return .sharedSecret
            case 0x003: return .allocate
            case 0x004: return .send
            case 0x005: return .data
            case 0x006: return .setActiveDestination
            default: return .unknown(self)
            }
        }
        switch rawValue {
        case 0x001: return .binding
        case 0x002: return .sharedSecret
        case 0x003: return .allocate
        case 0x004: return .refresh
        case 0x006: return .send
        case 0x007: return .data
        case 0x008: return .createPermission
        case 0x009: return .channelBind
        case 0x00A: return .connect
        case 0x00B: return .connectionBind
        case 0x00C: return .connectionAttempt
        case 0x080: return .googPing
        default: return .unknown(self)
        }
    }

    /// The name under RFC 5389/8489 numbering, e.g. `Allocate`, `ChannelBind`;
    /// unknown methods are named by number (`0x200`).
    public var name: String { meaning(in: .rfc5389).name }

    public var description: String { name }

    static func numberName(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}

/// A method by what it does, whatever number its dialect gives it
/// (`StunMethod.meaning(in:)`): MS-TURN's Send 0x004 and RFC 8656's Send
/// 0x006 are both `.send`. Consumers switch on this instead of numbers.
public enum StunMethodMeaning: Hashable, Sendable, CustomStringConvertible {
    case binding
    case sharedSecret
    case allocate
    case refresh
    case send
    case data
    /// MS-TURN: which peer the server sends the client's data to.
    case setActiveDestination
    case createPermission
    case channelBind
    case connect
    case connectionBind
    case connectionAttempt
    case googPing
    /// A number the dialect does not define (vendor methods), kept as is.
    case unknown(StunMethod)

    /// `Allocate`, `ChannelBind`, `SetActiveDestination`, ...; unknown methods by number (`0x200`).
    public var name: String {
        switch self {
        case .binding: return "Binding"
        case .sharedSecret: return "SharedSecret"
        case .allocate: return "Allocate"
        case .refresh: return "Refresh"
        case .send: return "Send"
        case .data: return "Data"
        case .setActiveDestination: return "SetActiveDestination"
        case .createPermission: return "CreatePermission"
        case .channelBind: return "ChannelBind"
        case .connect: return "Connect"
        case .connectionBind: return "ConnectionBind"
        case .connectionAttempt: return "ConnectionAttempt"
        case .googPing: return "GOOG-PING"
        case let .unknown(method): return StunMethod.numberName(method.rawValue)
        }
    }

    /// True for the methods that only exist between a TURN client and server.
    public var isTURN: Bool {
        switch self {
        case .allocate, .refresh, .send, .data, .setActiveDestination, .createPermission, .channelBind,
             .connect, .connectionBind, .connectionAttempt:
            return true
        case .binding, .sharedSecret, .googPing, .unknown:
            return false
        }
    }

    /// A method some RFC or MS-TURN defines as a request its peer answers; false for methods
    /// no specification names (applications' own, e.g. WhatsApp's 0x0801) and for SharedSecret
    /// (RFC 3489's, over TLS only: on UDP it is an application's own message type).
    public var isStandardRequest: Bool {
        switch self {
        case .sharedSecret, .unknown, .send, .data, .connectionAttempt: return false
        default: return true
        }
    }

    public var description: String { name }
}
