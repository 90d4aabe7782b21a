import NetworkVocabulary

/// A parsed STUN message as a plain value: everything a consumer needs,
/// detached from the packet bytes it came from.
///
/// Parse and emit are symmetric (smoltcp's `Repr`): `init(view)` reads a
/// message, `emit(into:)` writes one, and a message in canonical form comes
/// back byte for byte (see `emit`).
public struct StunMessage: Sendable, Equatable {
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
        var scratch = StunDecodingScratch()
        self.init(view, scratch: &scratch)
    }

    /// The same, with the attribute list's storage and long strings taken from `scratch`
    /// (the dissector's, one message after the other): with the list given back
    /// (`StunDecodingScratch.recycle`) and a sender repeating its SOFTWARE, a message is
    /// decoded without a heap allocation. `depth`: messages nested in a DATA attribute or a
    /// ChannelData frame are decoded while their carrier is still in use.
    public init(_ view: StunMessageView, scratch: inout StunDecodingScratch, depth: Int = 0) {
        self.init(type: view.messageType, transactionID: view.transactionID, dialect: view.dialect,
                  length: min(StunHeader.length &+ view.declaredLength, view.bytes.count))
        malformation = view.malformation
        let header = UnsafeRawBufferPointer(rebasing: view.bytes[0..<StunHeader.length])
        // Counted first: one allocation for the list instead of one per doubling.
        var count = 0
        var counter = view.attributes
        while counter.next() != nil { count &+= 1 }
        var decoded = scratch.takeBuffer(depth: depth)
        decoded.reserveCapacity(count)
        var iterator = view.attributes
        while let raw = iterator.next() {
            let type = StunAttributeType(raw.type)
            let meaning = type.meaning(in: view.dialect)
            let value: StunAttributeValue
            if meaning.layout == .string, let known = scratch.recentString(type: raw.type, bytes: raw.value) {
                value = .string(known)
            } else {
                value = StunAttributeDecoder.decode(raw.value, layout: meaning.layout, name: meaning.name, header: header)
                if case let .string(text) = value { scratch.remember(text, type: raw.type) }
            }
            // The padding present: none when unpadded, less than due when the last attribute omits it.
            let valueEnd = raw.offset &+ StunHeader.attributeHeaderLength &+ raw.value.count
            let due = view.attributesPadded ? StunPadding.count(afterValueOf: raw.value.count) : 0
            let padding = StunPadding(reading: view.bytes, at: valueEnd, count: min(due, view.attributesEnd &- valueEnd))
            decoded.append(StunAttribute(type: type, name: meaning.name, length: raw.value.count, value: value, padding: padding))
        }
        attributes = decoded
        fingerprint = StunFingerprint.check(view)
    }

    /// Parses `bytes` if they are exactly one STUN message.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> StunMessage? {
        StunMessageView.recognize(bytes).map(StunMessage.init)
    }

    /// Appends the message in wire form: header (`type`, the length of what
    /// follows, `transactionID`), then each attribute with its `length`, its
    /// value and its `padding`.
    ///
    /// - FINGERPRINT is computed for the bytes written (RFC 8489 14.7): it is
    ///   a function of them, so a stored value would be wrong as soon as
    ///   anything changed.
    /// - MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 are computed with
    ///   `integrityKey` when one is given (RFC 8489 14.5, 14.6; one key
    ///   protects both), else written as stored: without the password they
    ///   cannot be recomputed.
    /// - DATA values are summaries (`PayloadSummary`), not bytes: `data` gives
    ///   the bytes, as smoltcp's `emit` takes the payload from the caller. They
    ///   must match the summary, so that what is written parses back to `self`.
    /// - `.bytes` values are written verbatim whatever the type's layout.
    ///
    /// Round trip: for a message parsed from bytes in canonical form (valid
    /// FINGERPRINT, reserved bits zero, valid UTF-8), `emit` writes those
    /// bytes again; `StunMessage(view)` of what `emit` wrote equals the
    /// message it was written from. `malformation`, `fingerprint` and
    /// `integrity` are findings of a parse, not written. On error nothing is
    /// appended.
    public func emit(into out: inout [UInt8], data: [UInt8]? = nil, integrityKey: StunKey? = nil) throws(StunEmitError) {
        let start = out.count
        do {
            try emitUnchecked(into: &out, data: data, integrityKey: integrityKey)
        } catch {
            out.removeSubrange(start...)
            throw error
        }
    }

    /// The message in wire form (see `emit(into:data:integrityKey:)`).
    public func emitted(data: [UInt8]? = nil, integrityKey: StunKey? = nil) throws(StunEmitError) -> [UInt8] {
        var out: [UInt8] = []
        try emit(into: &out, data: data, integrityKey: integrityKey)
        return out
    }

    private func emitUnchecked(into out: inout [UInt8], data: [UInt8]?, integrityKey: StunKey?) throws(StunEmitError) {
        let start = out.count
        StunAttributeEncoder.append16(type.rawValue, to: &out)
        StunAttributeEncoder.append16(0, to: &out)  // the length, once known
        // A non-classic id holds the cookie in its leading 4 bytes.
        StunAttributeEncoder.append64(transactionID.high, to: &out)
        StunAttributeEncoder.append64(transactionID.low, to: &out)
        for attribute in attributes {
            let headerOffset = out.count &- start
            StunAttributeEncoder.append16(attribute.type.rawValue, to: &out)
            StunAttributeEncoder.append16(UInt16(truncatingIfNeeded: attribute.length), to: &out)
            try emitValue(of: attribute, headerOffset: headerOffset, messageStart: start, into: &out, data: data, integrityKey: integrityKey)
            attribute.padding.append(to: &out)
        }
        let length = out.count &- start &- StunHeader.length
        guard length <= Int(UInt16.max) else { throw .tooLong(bytes: length) }
        out[start &+ 2] = UInt8(truncatingIfNeeded: length >> 8)
        out[start &+ 3] = UInt8(truncatingIfNeeded: length)
    }

    private func emitValue(of attribute: StunAttribute, headerOffset: Int, messageStart start: Int, into out: inout [UInt8],
                           data: [UInt8]?, integrityKey: StunKey?) throws(StunEmitError) {
        guard (0...Int(UInt16.max)).contains(attribute.length) else { throw .tooLong(bytes: attribute.length) }
        let type = attribute.type
        /// `compute` applied to the message written so far, up to this attribute's header.
        func overMessageSoFar<T>(_ compute: (UnsafeRawBufferPointer) -> T) -> T {
            out.withUnsafeBytes { compute(UnsafeRawBufferPointer(rebasing: $0[start..<(start &+ headerOffset)])) }
        }
        if type == .fingerprint {
            guard attribute.length == 4 else { throw .lengthMismatch(type, declared: attribute.length, encoded: 4) }
            let lengthField = UInt16(truncatingIfNeeded: headerOffset &+ 8 &- StunHeader.length)
            let crc = overMessageSoFar { StunFingerprint.crc($0, upTo: headerOffset, lengthField: lengthField) }
            StunAttributeEncoder.append32(crc ^ StunFingerprint.xorValue, to: &out)
        } else if type == .messageIntegrity, let key = integrityKey {
            guard attribute.length == 20 else { throw .lengthMismatch(type, declared: attribute.length, encoded: 20) }
            out += overMessageSoFar { MessageIntegrityCode.sha1($0, upTo: headerOffset, key: key) }
        } else if type == .messageIntegritySHA256, let key = integrityKey {
            guard MessageIntegrityCode.sha256ValueLengths.contains(attribute.length) else {
                throw .unrepresentable(type, reason: "an HMAC-SHA256 value has 16 to 32 bytes in steps of 4, not \(attribute.length)")
            }
            out += overMessageSoFar { MessageIntegrityCode.sha256($0, upTo: headerOffset, valueLength: attribute.length, key: key) }
        } else if case let .data(summary) = attribute.value, type.meaning(in: dialect).layout == .data {
            guard let data else { throw .dataPayloadMissing }
            let given = data.withUnsafeBytes { PayloadSummary($0) }
            guard given == summary else { throw .dataPayloadMismatch(expected: summary, given: given) }
            guard attribute.length == data.count else { throw .lengthMismatch(type, declared: attribute.length, encoded: data.count) }
            out += data
        } else {
            try StunAttributeEncoder.encode(attribute.value, type: type, layout: type.meaning(in: dialect).layout,
                                            declaredLength: attribute.length, transactionID: transactionID, into: &out)
        }
    }

    public var isClassic: Bool { transactionID.isClassic }

    /// What the method does in this message's dialect: MS-TURN's Send (0x004) is `.send`.
    public var methodMeaning: StunMethodMeaning { method.meaning(in: dialect) }

    /// `Allocate`, `ChannelBind`, ... in the dialect's numbering; unknown methods by number.
    public var methodName: String { methodMeaning.name }

    /// True for Allocate, Refresh, Send, Data, CreatePermission, ChannelBind, the RFC 6062
    /// methods and MS-TURN's SetActiveDestination.
    public var isTURN: Bool { methodMeaning.isTURN }

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

/// Why a `StunMessage` cannot be written.
public enum StunEmitError: Error, Equatable, CustomStringConvertible {
    /// The value cannot be written in the type's layout, or was never read (`.invalid`).
    case unrepresentable(StunAttributeType, reason: String)
    /// The attribute's `length` is not what its value encodes to.
    case lengthMismatch(StunAttributeType, declared: Int, encoded: Int)
    /// The message has a DATA attribute and no `data` was given.
    case dataPayloadMissing
    /// The `data` given is not the payload the DATA attribute summarises.
    case dataPayloadMismatch(expected: PayloadSummary, given: PayloadSummary)
    /// More than the 16-bit length fields can say.
    case tooLong(bytes: Int)

    public var description: String {
        switch self {
        case let .unrepresentable(type, reason): return "attribute \(type): \(reason)"
        case let .lengthMismatch(type, declared, encoded):
            return "attribute \(type): length \(declared) declared, the value encodes to \(encoded) bytes"
        case .dataPayloadMissing: return "the message has a DATA attribute but no data was given"
        case let .dataPayloadMismatch(expected, given):
            return "the data given (\(given.length) bytes) is not the payload DATA summarises (\(expected.length) bytes)"
        case let .tooLong(bytes): return "\(bytes) bytes do not fit a 16-bit length field"
        }
    }
}
