/// The class of a STUN message: the two class bits (C1, C0) of the message
/// type (RFC 8489 section 5).
public enum StunMessageClass: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case request = 0
    case indication = 1
    case success = 2
    case error = 3

    /// The NDJSON spelling: `request`, `indication`, `success`, `error`.
    public var name: String {
        switch self {
        case .request: return "request"
        case .indication: return "indication"
        case .success: return "success"
        case .error: return "error"
        }
    }

    public var description: String { name }

    /// Success and error responses answer a request of the same transaction.
    public var isResponse: Bool { self == .success || self == .error }
}
