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
    /// Opaque values (MESSAGE-INTEGRITY, tokens, unknown attributes), copied
    /// (up to 24 bytes without a heap allocation: `StunBytes`).
    case bytes(StunBytes)
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
    /// The declared value length (without padding). For layouts whose decoder
    /// reads a prefix (REQUESTED-TRANSPORT's protocol, CHANNEL-NUMBER's
    /// number) it also counts the reserved bytes after it.
    public var length: Int
    public var value: StunAttributeValue
    /// The bytes after the value, as they were on the wire.
    public var padding: StunPadding

    /// `padding` defaults to what RFC 8489 writers send: zeros up to the next 4-byte boundary.
    public init(type: StunAttributeType, name: String, length: Int, value: StunAttributeValue,
                padding: StunPadding? = nil) {
        self.type = type
        self.name = name
        self.length = length
        self.value = value
        self.padding = padding ?? StunPadding(zerosAfterValueOf: length)
    }

    /// An attribute with its name in `dialect`, the length its value encodes
    /// to, and zero padding: what a writer of new messages wants.
    public init(_ type: StunAttributeType, _ value: StunAttributeValue, dialect: StunDialect = .rfc5389) {
        let meaning = type.meaning(in: dialect)
        let length = StunAttributeEncoder.canonicalLength(of: value, layout: meaning.layout)
        self.init(type: type, name: meaning.name, length: length, value: value)
    }

    public var address: Endpoint? { if case let .address(a) = value { return a } else { return nil } }
    public var unsigned: UInt64? { if case let .unsigned(v) = value { return v } else { return nil } }
    public var string: String? { if case let .string(s) = value { return s } else { return nil } }
}

/// The 0 to 3 bytes that follow an attribute value up to the next 4-byte
/// boundary. RFC 8489 section 14 lets them hold anything (RFC 5769's test
/// vectors use spaces) and some senders leave them out: RFC 3489 and MS-TURN
/// never pad, and some stacks drop the last attribute's padding. They are
/// kept as read, so that a parsed message is emitted byte for byte. Packed in
/// one word: attributes are parsed on the hot path and this allocates nothing.
public struct StunPadding: Hashable, Sendable {
    /// How many bytes (0...3).
    public let count: Int
    /// The bytes, the first in the most significant of the low `count` bytes.
    let packed: UInt32

    public static let absent = StunPadding(count: 0, packed: 0)

    init(count: Int, packed: UInt32) {
        self.count = count
        self.packed = packed
    }

    /// Zeros up to the next 4-byte boundary after a value of `length` bytes.
    public init(zerosAfterValueOf length: Int) {
        self.init(count: StunPadding.count(afterValueOf: length), packed: 0)
    }

    /// How many bytes lead from the end of a `length`-byte value to the next 4-byte boundary.
    public static func count(afterValueOf length: Int) -> Int { (4 &- (length & 3)) & 3 }

    /// Up to 3 bytes; nil for more.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count <= 3 else { return nil }
        self.init(count: bytes.count, packed: bytes.reduce(0) { $0 << 8 | UInt32($1) })
    }

    /// `count` bytes of `buffer` from `offset`; the caller has checked that they are there.
    init(reading buffer: UnsafeRawBufferPointer, at offset: Int, count: Int) {
        var packed: UInt32 = 0
        for index in offset..<(offset &+ count) { packed = packed << 8 | UInt32(buffer[index]) }
        self.init(count: count, packed: packed)
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    func append(to out: inout [UInt8]) {
        for index in 0..<count { out.append(UInt8(truncatingIfNeeded: packed >> UInt32(8 * (count &- 1 &- index)))) }
    }
}

/// Result of a FINGERPRINT or MESSAGE-INTEGRITY check.
public enum StunCheckResult: String, Sendable, Encodable {
    case valid
    case invalid
    /// MESSAGE-INTEGRITY present but no key for it is known.
    case unchecked
}
