import NetworkVocabulary

/// A parsed STUN message as a plain value: everything a consumer needs,
/// detached from the packet bytes it came from.
public struct StunMessage: Sendable {
    public var type: StunMessageType
    /// The method bits as on the wire (see `methodName` for the dialect's name).
    public var method: StunMethod
    /// The class; MS-TURN's Data Indication 0x0115 counts as an indication.
    public var messageClass: StunMessageClass
    public var transactionID: StunTransactionID
    public var dialect: StunDialect
    /// Bytes on the wire (header + attributes, no RFC 4571 framing).
    public var length: Int
    public var attributes: [StunAttribute]
    /// FINGERPRINT check; nil when the message has none.
    public var fingerprint: StunCheckResult?
    /// MESSAGE-INTEGRITY(-SHA256) check; nil when the message has neither.
    public var integrity: StunCheckResult?
    /// Why the message is malformed, or nil. Attributes then hold what could be read.
    public var malformation: String?

    public init(type: StunMessageType, transactionID: StunTransactionID, dialect: StunDialect = .rfc5389,
                length: Int = StunHeader.length, attributes: [StunAttribute] = []) {
        self.type = type
        self.method = type.method
        self.messageClass = type.messageClass
        self.transactionID = transactionID
        self.dialect = dialect
        self.length = length
        self.attributes = attributes
        if dialect != .rfc5389 && type.rawValue == 0x0115 { messageClass = .indication }
    }

    /// Decodes every attribute of a recognised view. FINGERPRINT is checked
    /// here; MESSAGE-INTEGRITY needs keys (`IntegrityVerifier`).
    public init(_ view: StunMessageView) {
        self.init(type: view.messageType, transactionID: view.transactionID, dialect: view.dialect,
                  length: min(StunHeader.length &+ view.declaredLength, view.bytes.count))
        malformation = view.malformation
        let header = UnsafeRawBufferPointer(rebasing: view.bytes[0..<StunHeader.length])
        var decoded: [StunAttribute] = []
        var iterator = view.attributes
        while let raw = iterator.next() {
            let type = StunAttributeType(raw.type)
            let meaning = type.meaning(in: view.dialect)
            let value = StunAttributeDecoder.decode(raw.value, layout: meaning.layout, name: meaning.name, header: header)
            decoded.append(StunAttribute(type: type, name: meaning.name, length: raw.value.count, value: value))
        }
        attributes = decoded
        fingerprint = StunFingerprint.check(view)
    }

    /// Parses `bytes` if they are exactly one STUN message.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> StunMessage? {
        StunMessageView.recognize(bytes).map(StunMessage.init)
    }

    public var isClassic: Bool { transactionID.isClassic }

    /// `Allocate`, `ChannelBind`, ... in the dialect's numbering; unknown methods by number.
    public var methodName: String { dialect == .rfc5389 ? method.name : method.classicName }

    /// True for Allocate, Refresh, Send, Data, CreatePermission, ChannelBind and the RFC 6062 methods.
    public var isTURN: Bool {
        dialect == .rfc5389 ? method.isTURN : (method.rawValue >= 0x003 && method.rawValue <= 0x006)
    }

    // MARK: Lookups by meaning (they follow the dialect: MS-TURN's REALM is 0x0015).

    public func first(named name: String) -> StunAttribute? {
        attributes.first { $0.name == name }
    }

    public func all(named name: String) -> [StunAttribute] {
        attributes.filter { $0.name == name }
    }

    public func first(_ type: StunAttributeType) -> StunAttribute? {
        attributes.first { $0.type == type }
    }

    public func contains(_ type: StunAttributeType) -> Bool { first(type) != nil }

    public var errorCode: Int? {
        for attribute in attributes where attribute.type == .errorCode {
            if case let .errorCode(code, _) = attribute.value { return code }
        }
        return nil
    }

    public var errorReason: String? {
        for attribute in attributes where attribute.type == .errorCode {
            if case let .errorCode(_, reason) = attribute.value { return reason }
        }
        return nil
    }

    public var username: String? { first(named: "USERNAME")?.string }
    public var realm: String? { first(named: "REALM")?.string }
    public var nonce: String? { first(named: "NONCE")?.string }
    public var software: String? { first(named: "SOFTWARE")?.string }
    public var lifetime: UInt32? { first(named: "LIFETIME")?.unsigned.map { UInt32(truncatingIfNeeded: $0) } }
    public var channelNumber: UInt16? { first(named: "CHANNEL-NUMBER")?.unsigned.map { UInt16(truncatingIfNeeded: $0) } }
    public var priority: UInt32? { first(named: "PRIORITY")?.unsigned.map { UInt32(truncatingIfNeeded: $0) } }
    public var requestedTransport: UInt8? { first(named: "REQUESTED-TRANSPORT")?.unsigned.map { UInt8(truncatingIfNeeded: $0) } }
    public var useCandidate: Bool { first(named: "USE-CANDIDATE") != nil }
    public var iceControlling: UInt64? { first(named: "ICE-CONTROLLING")?.unsigned }
    public var iceControlled: UInt64? { first(named: "ICE-CONTROLLED")?.unsigned }
    public var nomination: UInt32? { first(named: "NOMINATION")?.unsigned.map { UInt32(truncatingIfNeeded: $0) } }
    public var mappedAddress: Endpoint? { first(named: "MAPPED-ADDRESS")?.address }
    public var xorMappedAddress: Endpoint? { first(named: "XOR-MAPPED-ADDRESS")?.address }
    /// One per family for dual allocations (RFC 8656).
    public var xorRelayedAddresses: [Endpoint] { all(named: "XOR-RELAYED-ADDRESS").compactMap(\.address) }
    /// TURN peers: XOR-PEER-ADDRESS, or MS-TURN's REMOTE-ADDRESS / DESTINATION-ADDRESS.
    public var peerAddresses: [Endpoint] {
        attributes.compactMap { a in
            a.name == "XOR-PEER-ADDRESS" || a.name == "REMOTE-ADDRESS" || a.name == "DESTINATION-ADDRESS" ? a.address : nil
        }
    }
    public var data: PayloadSummary? {
        for attribute in attributes where attribute.type == .data {
            if case let .data(summary) = attribute.value { return summary }
        }
        return nil
    }
}
