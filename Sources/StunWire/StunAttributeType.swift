/// A STUN attribute type as it appears on the wire (the IANA "STUN
/// Attributes" registry plus the vendor codes Wireshark and real stacks use).
public struct StunAttributeType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    // RFC 3489 / 5389 / 8489
    public static let mappedAddress = StunAttributeType(0x0001)
    public static let responseAddress = StunAttributeType(0x0002)
    public static let changeRequest = StunAttributeType(0x0003)
    public static let sourceAddress = StunAttributeType(0x0004)
    public static let changedAddress = StunAttributeType(0x0005)
    public static let username = StunAttributeType(0x0006)
    public static let password = StunAttributeType(0x0007)
    public static let messageIntegrity = StunAttributeType(0x0008)
    public static let errorCode = StunAttributeType(0x0009)
    public static let unknownAttributes = StunAttributeType(0x000A)
    public static let reflectedFrom = StunAttributeType(0x000B)
    // TURN (RFC 5766 / 8656, 6156, 6062), MS-TURN
    public static let channelNumber = StunAttributeType(0x000C)
    public static let lifetime = StunAttributeType(0x000D)
    public static let msAlternateServer = StunAttributeType(0x000E)
    public static let magicCookie = StunAttributeType(0x000F)
    public static let bandwidth = StunAttributeType(0x0010)
    public static let destinationAddress = StunAttributeType(0x0011)
    public static let xorPeerAddress = StunAttributeType(0x0012)
    public static let data = StunAttributeType(0x0013)
    public static let realm = StunAttributeType(0x0014)
    public static let nonce = StunAttributeType(0x0015)
    public static let xorRelayedAddress = StunAttributeType(0x0016)
    public static let requestedAddressFamily = StunAttributeType(0x0017)
    public static let evenPort = StunAttributeType(0x0018)
    public static let requestedTransport = StunAttributeType(0x0019)
    public static let dontFragment = StunAttributeType(0x001A)
    public static let accessToken = StunAttributeType(0x001B)            // RFC 7635
    public static let messageIntegritySHA256 = StunAttributeType(0x001C) // RFC 8489
    public static let passwordAlgorithm = StunAttributeType(0x001D)      // RFC 8489
    public static let userhash = StunAttributeType(0x001E)               // RFC 8489
    public static let xorMappedAddress = StunAttributeType(0x0020)
    public static let timerVal = StunAttributeType(0x0021)               // TURN drafts
    public static let reservationToken = StunAttributeType(0x0022)
    public static let priority = StunAttributeType(0x0024)               // RFC 8445
    public static let useCandidate = StunAttributeType(0x0025)           // RFC 8445
    public static let padding = StunAttributeType(0x0026)                // RFC 5780
    public static let responsePort = StunAttributeType(0x0027)           // RFC 5780
    public static let xorReflectedFrom = StunAttributeType(0x0028)       // behave drafts
    public static let connectionID = StunAttributeType(0x002A)           // RFC 6062
    public static let legacyICMP = StunAttributeType(0x0030)             // TURN drafts
    public static let additionalAddressFamily = StunAttributeType(0x8000) // RFC 8656
    public static let addressErrorCode = StunAttributeType(0x8001)       // RFC 8656
    public static let passwordAlgorithms = StunAttributeType(0x8002)     // RFC 8489
    public static let alternateDomain = StunAttributeType(0x8003)        // RFC 8489
    public static let icmp = StunAttributeType(0x8004)                   // RFC 8656
    public static let msTurnUnknown8006 = StunAttributeType(0x8006)
    public static let msVersion = StunAttributeType(0x8008)
    public static let msXorMappedAddress = StunAttributeType(0x8020)
    public static let software = StunAttributeType(0x8022)
    public static let alternateServer = StunAttributeType(0x8023)
    public static let transactionTransmitCounter = StunAttributeType(0x8025) // RFC 7982
    public static let cacheTimeout = StunAttributeType(0x8027)           // RFC 5780
    public static let fingerprint = StunAttributeType(0x8028)
    public static let iceControlled = StunAttributeType(0x8029)          // RFC 8445
    public static let iceControlling = StunAttributeType(0x802A)         // RFC 8445
    public static let responseOrigin = StunAttributeType(0x802B)         // RFC 5780
    public static let otherAddress = StunAttributeType(0x802C)           // RFC 5780
    public static let ecnCheck = StunAttributeType(0x802D)               // RFC 6679
    public static let thirdPartyAuthorization = StunAttributeType(0x802E) // RFC 7635
    public static let mobilityTicket = StunAttributeType(0x8030)         // RFC 8016
    public static let msAlternateHostName = StunAttributeType(0x8032)
    public static let msAppID = StunAttributeType(0x8037)
    public static let msSecureTag = StunAttributeType(0x8039)
    public static let msSequenceNumber = StunAttributeType(0x8050)
    public static let msCandidateIdentifier = StunAttributeType(0x8054)
    public static let msServiceQuality = StunAttributeType(0x8055)
    public static let msImplementationVersion = StunAttributeType(0x8070)
    public static let msAltMappedAddress = StunAttributeType(0x8090)
    public static let msMultiplexedTurnSessionID = StunAttributeType(0x8095)
    public static let nomination = StunAttributeType(0xC001)             // libwebrtc / pion renomination
    public static let googNetworkInfo = StunAttributeType(0xC057)
    public static let googLastICECheckReceived = StunAttributeType(0xC058)
    public static let googMiscInfo = StunAttributeType(0xC059)

    /// RFC 8489 section 14: types below 0x8000 must be understood.
    public var isComprehensionRequired: Bool { rawValue < 0x8000 }

    public var description: String {
        let digits = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The type this attribute plays the role of in RFC 5389/8489 numbering:
    /// the type itself, except in the TURN drafts that RFC 3489 stacks and
    /// MS-TURN speak (`meaning(in:)` names them), where 0x0014 is NONCE,
    /// 0x0015 REALM and 0x0012 REMOTE-ADDRESS, the peer address RFC 5766 made
    /// XOR-PEER-ADDRESS; nil for the drafts' attributes with no RFC
    /// counterpart. Consumers switch on this instead of numbers and dialects.
    public func standard(in dialect: StunDialect) -> StunAttributeType? {
        guard dialect != .rfc5389 else { return self }
        switch rawValue {
        case 0x0012: return .xorPeerAddress
        case 0x0014: return .nonce
        case 0x0015: return .realm
        case 0x0016 where dialect == .classic, 0x0021 where dialect == .classic: return nil
        default: return self
        }
    }

    /// Name and value layout of this type in `dialect`.
    public func meaning(in dialect: StunDialect) -> StunAttributeMeaning {
        if dialect != .rfc5389 {
            // The TURN drafts that RFC 3489 stacks and MS-TURN still speak.
            switch rawValue {
            case 0x0012: return StunAttributeMeaning("REMOTE-ADDRESS", .address)
            case 0x0014: return StunAttributeMeaning("NONCE", .string)
            case 0x0015: return StunAttributeMeaning("REALM", .string)
            case 0x0016 where dialect == .classic: return StunAttributeMeaning("REQUESTED-ADDRESS-TYPE", .unsigned32)
            case 0x0021 where dialect == .classic: return StunAttributeMeaning("XOR-ONLY", .empty)
            default: break
            }
        }
        switch rawValue {
        case 0x0001: return StunAttributeMeaning("MAPPED-ADDRESS", .address)
        case 0x0002: return StunAttributeMeaning("RESPONSE-ADDRESS", .address)
        case 0x0003: return StunAttributeMeaning("CHANGE-REQUEST", .changeRequest)
        case 0x0004: return StunAttributeMeaning("SOURCE-ADDRESS", .address)
        case 0x0005: return StunAttributeMeaning("CHANGED-ADDRESS", .address)
        case 0x0006: return StunAttributeMeaning("USERNAME", .string)
        case 0x0007: return StunAttributeMeaning("PASSWORD", .bytes)
        case 0x0008: return StunAttributeMeaning("MESSAGE-INTEGRITY", .bytes)
        case 0x0009: return StunAttributeMeaning("ERROR-CODE", .errorCode)
        case 0x000A: return StunAttributeMeaning("UNKNOWN-ATTRIBUTES", .unsigned16List)
        case 0x000B: return StunAttributeMeaning("REFLECTED-FROM", .address)
        case 0x000C: return StunAttributeMeaning("CHANNEL-NUMBER", .unsigned16)
        case 0x000D: return StunAttributeMeaning("LIFETIME", .unsigned32)
        case 0x000E: return StunAttributeMeaning("MS-ALTERNATE-SERVER", .address)
        case 0x000F: return StunAttributeMeaning("MAGIC-COOKIE", .unsigned32)
        case 0x0010: return StunAttributeMeaning("BANDWIDTH", .unsigned32)
        case 0x0011: return StunAttributeMeaning("DESTINATION-ADDRESS", .address)
        case 0x0012: return StunAttributeMeaning("XOR-PEER-ADDRESS", .xorAddress)
        case 0x0013: return StunAttributeMeaning("DATA", .data)
        case 0x0014: return StunAttributeMeaning("REALM", .string)
        case 0x0015: return StunAttributeMeaning("NONCE", .string)
        case 0x0016: return StunAttributeMeaning("XOR-RELAYED-ADDRESS", .xorAddress)
        case 0x0017: return StunAttributeMeaning("REQUESTED-ADDRESS-FAMILY", .unsigned8)
        case 0x0018: return StunAttributeMeaning("EVEN-PORT", .evenPort)
        case 0x0019: return StunAttributeMeaning("REQUESTED-TRANSPORT", .unsigned8)
        case 0x001A: return StunAttributeMeaning("DONT-FRAGMENT", .empty)
        case 0x001B: return StunAttributeMeaning("ACCESS-TOKEN", .bytes)
        case 0x001C: return StunAttributeMeaning("MESSAGE-INTEGRITY-SHA256", .bytes)
        case 0x001D: return StunAttributeMeaning("PASSWORD-ALGORITHM", .passwordAlgorithms)
        case 0x001E: return StunAttributeMeaning("USERHASH", .bytes)
        case 0x0020: return StunAttributeMeaning("XOR-MAPPED-ADDRESS", .xorAddress)
        case 0x0021: return StunAttributeMeaning("TIMER-VAL", .unsigned32)
        case 0x0022: return StunAttributeMeaning("RESERVATION-TOKEN", .bytes)
        case 0x0024: return StunAttributeMeaning("PRIORITY", .unsigned32)
        case 0x0025: return StunAttributeMeaning("USE-CANDIDATE", .empty)
        case 0x0026: return StunAttributeMeaning("PADDING", .bytes)
        // RFC 5780 section 7.5: a 16-bit port then 16 reserved bits. Wireshark
        // still decodes 0x0027 as the draft's XOR-RESPONSE-TARGET address.
        case 0x0027: return StunAttributeMeaning("RESPONSE-PORT", .unsigned16)
        case 0x0028: return StunAttributeMeaning("XOR-REFLECTED-FROM", .xorAddress)
        case 0x002A: return StunAttributeMeaning("CONNECTION-ID", .unsigned32)
        case 0x0030: return StunAttributeMeaning("LEGACY-ICMP", .icmp)
        case 0x8000: return StunAttributeMeaning("ADDITIONAL-ADDRESS-FAMILY", .unsigned8)
        case 0x8001: return StunAttributeMeaning("ADDRESS-ERROR-CODE", .addressErrorCode)
        case 0x8002: return StunAttributeMeaning("PASSWORD-ALGORITHMS", .passwordAlgorithms)
        case 0x8003: return StunAttributeMeaning("ALTERNATE-DOMAIN", .string)
        case 0x8004: return StunAttributeMeaning("ICMP", .icmp)
        case 0x8006: return StunAttributeMeaning("MS-TURN-UNKNOWN-8006", .bytes)
        case 0x8008: return StunAttributeMeaning("MS-VERSION", .unsigned32)
        case 0x8020: return StunAttributeMeaning("MS-XOR-MAPPED-ADDRESS", .xorAddress)
        case 0x8022: return StunAttributeMeaning("SOFTWARE", .string)
        case 0x8023: return StunAttributeMeaning("ALTERNATE-SERVER", .address)
        case 0x8025: return StunAttributeMeaning("TRANSACTION-TRANSMIT-COUNTER", .transmitCounter)
        case 0x8027: return StunAttributeMeaning("CACHE-TIMEOUT", .unsigned32)
        case 0x8028: return StunAttributeMeaning("FINGERPRINT", .unsigned32)
        case 0x8029: return StunAttributeMeaning("ICE-CONTROLLED", .unsigned64)
        case 0x802A: return StunAttributeMeaning("ICE-CONTROLLING", .unsigned64)
        case 0x802B: return StunAttributeMeaning("RESPONSE-ORIGIN", .address)
        case 0x802C: return StunAttributeMeaning("OTHER-ADDRESS", .address)
        case 0x802D: return StunAttributeMeaning("ECN-CHECK-STUN", .unsigned32)
        case 0x802E: return StunAttributeMeaning("THIRD-PARTY-AUTHORIZATION", .string)
        case 0x8030: return StunAttributeMeaning("MOBILITY-TICKET", .bytes)
        case 0x8032: return StunAttributeMeaning("MS-ALTERNATE-HOST-NAME", .string)
        case 0x8037: return StunAttributeMeaning("MS-APP-ID", .bytes)
        case 0x8039: return StunAttributeMeaning("MS-SECURE-TAG", .bytes)
        case 0x8050: return StunAttributeMeaning("MS-SEQUENCE-NUMBER", .bytes)
        case 0x8054: return StunAttributeMeaning("MS-CANDIDATE-IDENTIFIER", .string)
        case 0x8055: return StunAttributeMeaning("MS-SERVICE-QUALITY", .bytes)
        case 0x8056: return StunAttributeMeaning("MS-BANDWIDTH-ADMISSION-CONTROL-MESSAGE", .bytes)
        case 0x8057: return StunAttributeMeaning("MS-BANDWIDTH-RESERVATION-IDENTIFIER", .bytes)
        case 0x8058: return StunAttributeMeaning("MS-BANDWIDTH-RESERVATION-AMOUNT", .bytes)
        case 0x8059: return StunAttributeMeaning("MS-REMOTE-SITE-ADDRESS", .xorAddress)
        case 0x805A: return StunAttributeMeaning("MS-REMOTE-RELAY-SITE-ADDRESS", .xorAddress)
        case 0x805B: return StunAttributeMeaning("MS-LOCAL-SITE-ADDRESS", .xorAddress)
        case 0x805C: return StunAttributeMeaning("MS-LOCAL-RELAY-SITE-ADDRESS", .xorAddress)
        case 0x805D: return StunAttributeMeaning("MS-REMOTE-SITE-ADDRESS-RESPONSE", .bytes)
        case 0x805E: return StunAttributeMeaning("MS-REMOTE-RELAY-SITE-ADDRESS-RESPONSE", .bytes)
        case 0x805F: return StunAttributeMeaning("MS-LOCAL-SITE-ADDRESS-RESPONSE", .bytes)
        case 0x8060: return StunAttributeMeaning("MS-LOCAL-RELAY-SITE-ADDRESS-RESPONSE", .bytes)
        case 0x8061: return StunAttributeMeaning("MS-SIP-DIALOG-ID", .bytes)
        case 0x8062: return StunAttributeMeaning("MS-SIP-CALL-ID", .bytes)
        case 0x8068: return StunAttributeMeaning("MS-LOCATION-PROFILE", .bytes)
        case 0x8070: return StunAttributeMeaning("MS-IMPLEMENTATION-VERSION", .unsigned32)
        case 0x8090: return StunAttributeMeaning("MS-ALT-MAPPED-ADDRESS", .address)
        case 0x8095: return StunAttributeMeaning("MS-MULTIPLEXED-TURN-SESSION-ID", .unsigned64)
        case 0xC000: return StunAttributeMeaning("CISCO-STUN-FLOWDATA", .bytes)
        case 0xC001: return StunAttributeMeaning("NOMINATION", .unsigned32)
        case 0xC002: return StunAttributeMeaning("ENF-NETWORK-STATUS", .bytes)
        case 0xC003: return StunAttributeMeaning("CISCO-WEBEX-FLOW-INFO", .bytes)
        case 0xC056: return StunAttributeMeaning("CITRIX-TRANSACTION-ID", .bytes)
        case 0xC057: return StunAttributeMeaning("GOOG-NETWORK-INFO", .networkInfo)
        case 0xC058: return StunAttributeMeaning("GOOG-LAST-ICE-CHECK-RECEIVED", .bytes)
        case 0xC059: return StunAttributeMeaning("GOOG-MISC-INFO", .unsigned16List)
        case 0xC05A: return StunAttributeMeaning("GOOG-OBSOLETE-1", .bytes)
        case 0xC05B: return StunAttributeMeaning("GOOG-CONNECTION-ID", .bytes)
        case 0xC05C: return StunAttributeMeaning("GOOG-DELTA", .bytes)
        case 0xC05D: return StunAttributeMeaning("GOOG-DELTA-ACK", .bytes)
        case 0xC05E: return StunAttributeMeaning("GOOG-DELTA-SYNC-REQ", .bytes)
        case 0xC060: return StunAttributeMeaning("GOOG-MESSAGE-INTEGRITY-32", .bytes)
        case 0xC070: return StunAttributeMeaning("META-DTLS-IN-STUN", .bytes)
        case 0xC071: return StunAttributeMeaning("META-DTLS-IN-STUN-ACKNOWLEDGEMENT", .bytes)
        case 0xFF04: return StunAttributeMeaning("GOOG-MULTI-MAPPING", .bytes)
        case 0xFF05: return StunAttributeMeaning("GOOG-LOGGING-ID", .bytes)
        default: return StunAttributeMeaning("UNKNOWN", .bytes)
        }
    }
}

/// What an attribute type means in a dialect: its name and how its value is laid out.
public struct StunAttributeMeaning: Sendable {
    public var name: String
    public var layout: StunValueLayout

    init(_ name: String, _ layout: StunValueLayout) {
        self.name = name
        self.layout = layout
    }
}

/// The wire layouts attribute values use; `StunAttributeDecoder` turns each into a `StunAttributeValue`.
public enum StunValueLayout: Sendable {
    case address, xorAddress, string, unsigned8, unsigned16, unsigned32, unsigned64
    case errorCode, addressErrorCode, changeRequest, evenPort, empty, unsigned16List
    case data, bytes, passwordAlgorithms, icmp, networkInfo, transmitCounter
}
