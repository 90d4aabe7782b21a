import NetworkVocabulary

/// A decoded attribute value. Addresses are already de-XORed; payloads are
/// summarised (length, hash, class) rather than copied.
public enum StunAttributeValue: Sendable, Equatable {
    /// MAPPED-ADDRESS, XOR-*-ADDRESS (de-XORed), OTHER-ADDRESS, ...
    case address(Endpoint)
    /// PRIORITY, LIFETIME, CHANNEL-NUMBER, REQUESTED-TRANSPORT, RESPONSE-PORT,
    /// ICE-CONTROLLING tie-breakers, FINGERPRINT, ...
    case unsigned(UInt64)
    /// USERNAME, REALM, NONCE, SOFTWARE, ... (invalid UTF-8 replaced, controls kept).
    case string(String)
    case errorCode(code: Int, reason: String)
    /// RFC 8656 ADDRESS-ERROR-CODE: which family of a dual allocation failed, and why.
    case addressErrorCode(family: UInt8, code: Int, reason: String)
    /// RFC 3489 / 5780 CHANGE-REQUEST flags.
    case changeRequest(changeIP: Bool, changePort: Bool)
    case evenPort(reserveNext: Bool)
    /// Attributes whose presence is the message: USE-CANDIDATE, DONT-FRAGMENT.
    case empty
    /// UNKNOWN-ATTRIBUTES, GOOG-MISC-INFO.
    case unsigned16List([UInt16])
    /// The DATA attribute: the relayed application payload, summarised.
    case data(PayloadSummary)
    /// Opaque values (MESSAGE-INTEGRITY, tokens, unknown attributes), copied.
    case bytes([UInt8])
    case passwordAlgorithms([UInt16])
    case icmp(type: UInt8, code: UInt8, errorData: UInt32)
    /// libwebrtc GOOG-NETWORK-INFO: network id and cost.
    case networkInfo(networkID: UInt16, cost: UInt16)
    /// RFC 7982 TRANSACTION-TRANSMIT-COUNTER.
    case transmitCounter(request: UInt8, response: UInt8)
    /// A value that does not fit its type's layout; the reason says how.
    case invalid(String)
}

/// One attribute, in wire order within its message.
public struct StunAttribute: Sendable, Equatable {
    /// The type as on the wire (MS-TURN's 0x0014 stays 0x0014 even though it means NONCE there).
    public var type: StunAttributeType
    /// What the type means in the message's dialect (`NONCE` for MS-TURN's 0x0014).
    public var name: String
    /// The declared value length (without padding).
    public var length: Int
    public var value: StunAttributeValue

    public init(type: StunAttributeType, name: String, length: Int, value: StunAttributeValue) {
        self.type = type
        self.name = name
        self.length = length
        self.value = value
    }

    public var address: Endpoint? { if case let .address(a) = value { return a } else { return nil } }
    public var unsigned: UInt64? { if case let .unsigned(v) = value { return v } else { return nil } }
    public var string: String? { if case let .string(s) = value { return s } else { return nil } }
}

/// Result of a FINGERPRINT or MESSAGE-INTEGRITY check.
public enum StunCheckResult: String, Sendable, Codable {
    case valid
    case invalid
    /// MESSAGE-INTEGRITY present but no key for it is known.
    case unchecked
}
