import PacketDecoding

/// A checked, zero-copy view of one STUN message in borrowed bytes
/// (smoltcp style: `recognize` validates once, accessors then read freely).
///
/// Recognition follows the heuristics Wireshark relies on, made stricter:
/// the first two bits are 0, and either the RFC 5389 magic cookie is present
/// with a length field that covers the bytes exactly, or (classic RFC 3489
/// without a cookie) the type is one RFC 3489 / MS-TURN defined. In both
/// cases the attribute walk must land exactly on the end of the message.
/// A message with the cookie whose length or walk is inconsistent is still
/// returned, with `malformation` saying what is wrong, so that it can be
/// reported rather than silently dropped.
public struct StunMessageView {
    /// The message bytes (for a length mismatch, all bytes that were offered).
    public let bytes: UnsafeRawBufferPointer
    public let dialect: StunDialect
    /// True when attribute values are padded to 4 bytes (RFC 5389 and later).
    public let attributesPadded: Bool
    /// Why the message is malformed, or nil when it is well formed.
    public let malformation: String?
    /// Where the attribute walk stops: the declared end, clipped to the bytes present.
    public let attributesEnd: Int

    public var messageType: StunMessageType { StunMessageType(rawValue: bytes.loadBE16(0)) }
    public var declaredLength: Int { Int(bytes.loadBE16(2)) }
    public var isClassic: Bool { bytes.loadBE32(4) != StunHeader.magicCookie }
    public var transactionID: StunTransactionID { .read(header: bytes, isClassic: isClassic) }
    public var attributes: StunAttributeIterator {
        StunAttributeIterator(bytes: bytes, end: attributesEnd, padded: attributesPadded)
    }

    init(bytes: UnsafeRawBufferPointer, dialect: StunDialect, padded: Bool, malformation: String?) {
        self.bytes = bytes
        self.dialect = dialect
        self.attributesPadded = padded
        self.malformation = malformation
        self.attributesEnd = min(StunHeader.length &+ Int(bytes.loadBE16(2)), bytes.count)
    }

    /// Recognises a STUN message that should fill `buffer` exactly (a UDP
    /// payload, a framed TCP message, a DATA attribute). Nil when the bytes
    /// are not STUN.
    public static func recognize(_ buffer: UnsafeRawBufferPointer) -> StunMessageView? {
        guard buffer.count >= StunHeader.length else { return nil }
        let type = buffer.loadBE16(0)
        guard type & 0xC000 == 0 else { return nil }
        let end = StunHeader.length &+ Int(buffer.loadBE16(2))
        let hasCookie = buffer.loadBE32(4) == StunHeader.magicCookie

        if hasCookie {
            let dialect: StunDialect = startsWithMSTurnCookie(buffer, end: min(end, buffer.count)) ? .msTurn : .rfc5389
            let preferPadded = dialect == .rfc5389
            if end != buffer.count {
                let reason = end > buffer.count
                    ? "truncated: the length field says \(end) bytes, \(buffer.count) are present"
                    : "\(buffer.count - end) bytes follow the end of the message"
                return StunMessageView(bytes: buffer, dialect: dialect, padded: preferPadded, malformation: reason)
            }
            if walk(buffer, end: end, padded: preferPadded) == nil {
                return StunMessageView(bytes: buffer, dialect: dialect, padded: preferPadded, malformation: nil)
            }
            if walk(buffer, end: end, padded: !preferPadded) == nil {
                return StunMessageView(bytes: buffer, dialect: dialect, padded: !preferPadded, malformation: nil)
            }
            let failure = walk(buffer, end: end, padded: preferPadded)!
            return StunMessageView(bytes: buffer, dialect: dialect, padded: preferPadded, malformation: failure.reason)
        }

        // Classic RFC 3489: no cookie, so only believe known types with an exact, consistent walk.
        guard StunMessageType(rawValue: type).isClassicType, end == buffer.count else { return nil }
        let dialect: StunDialect = startsWithMSTurnCookie(buffer, end: end) ? .msTurn : .classic
        if walk(buffer, end: end, padded: false) == nil {
            return StunMessageView(bytes: buffer, dialect: dialect, padded: false, malformation: nil)
        }
        if walk(buffer, end: end, padded: true) == nil {
            return StunMessageView(bytes: buffer, dialect: dialect, padded: true, malformation: nil)
        }
        return nil
    }

    /// Reads what can be read from a message cut short, e.g. the start of a
    /// STUN message quoted in an ICMP error. Needs the cookie and a header.
    public static func recognizePrefix(_ buffer: UnsafeRawBufferPointer) -> StunMessageView? {
        guard buffer.count >= StunHeader.length, buffer.loadBE16(0) & 0xC000 == 0,
              buffer.loadBE32(4) == StunHeader.magicCookie else { return nil }
        let end = StunHeader.length &+ Int(buffer.loadBE16(2))
        if end <= buffer.count {
            return recognize(UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
        }
        let dialect: StunDialect = startsWithMSTurnCookie(buffer, end: buffer.count) ? .msTurn : .rfc5389
        return StunMessageView(bytes: buffer, dialect: dialect, padded: dialect == .rfc5389,
                               malformation: "truncated: \(buffer.count) of \(end) bytes present")
    }

    /// MS-TURN puts its MAGIC-COOKIE attribute first in every message.
    static func startsWithMSTurnCookie(_ b: UnsafeRawBufferPointer, end: Int) -> Bool {
        end >= StunHeader.length &+ 8 && b.loadBE16(20) == StunAttributeType.magicCookie.rawValue
            && b.loadBE16(22) == 4 && b.loadBE32(24) == StunHeader.msTurnMagicCookie
    }

    /// Where an attribute walk went wrong.
    struct WalkFailure {
        var offset: Int
        var type: UInt16?
        var length: Int
        var available: Int

        var reason: String {
            guard let type else { return "\(available) stray bytes at offset \(offset), too few for an attribute header" }
            return "attribute \(StunAttributeType(type)) at offset \(offset) claims \(length) bytes, \(available) remain"
        }
    }

    /// Walks the attributes from the header to `end`; nil when they tile it exactly.
    /// A final attribute may omit its padding (some stacks do).
    static func walk(_ b: UnsafeRawBufferPointer, end: Int, padded: Bool) -> WalkFailure? {
        var offset = StunHeader.length
        while offset < end {
            let available = end &- offset
            guard available >= StunHeader.attributeHeaderLength else {
                return WalkFailure(offset: offset, type: nil, length: 0, available: available)
            }
            let length = Int(b.loadBE16(offset &+ 2))
            let room = available &- StunHeader.attributeHeaderLength
            let step = padded ? (length &+ 3) & ~3 : length
            if step > room {
                if padded && length == room { return nil }
                return WalkFailure(offset: offset, type: b.loadBE16(offset), length: length, available: room)
            }
            offset &+= StunHeader.attributeHeaderLength &+ step
        }
        return nil
    }

    /// The value of the first attribute of `type`, as a view.
    public func firstValue(of type: StunAttributeType) -> UnsafeRawBufferPointer? {
        var iterator = attributes
        while let attribute = iterator.next() {
            if attribute.type == type.rawValue { return attribute.value }
        }
        return nil
    }
}

/// One attribute as raw bytes inside a message.
public struct StunRawAttribute {
    public let type: UInt16
    /// Offset of the attribute header from the start of the message.
    public let offset: Int
    public let value: UnsafeRawBufferPointer
}

/// Walks attributes in wire order without allocating; stops at the first
/// attribute that does not fit (only possible in a malformed message).
public struct StunAttributeIterator: IteratorProtocol, Sequence {
    let bytes: UnsafeRawBufferPointer
    let end: Int
    let padded: Bool
    var offset = StunHeader.length

    public mutating func next() -> StunRawAttribute? {
        guard end &- offset >= StunHeader.attributeHeaderLength else { return nil }
        let type = bytes.loadBE16(offset)
        let length = Int(bytes.loadBE16(offset &+ 2))
        let valueStart = offset &+ StunHeader.attributeHeaderLength
        guard length <= end &- valueStart else { return nil }
        let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<(valueStart &+ length)])
        let here = offset
        offset = valueStart &+ (padded ? (length &+ 3) & ~3 : length)
        return StunRawAttribute(type: type, offset: here, value: value)
    }
}
