import NetworkVocabulary
import PacketDecoding

/// Writes one attribute value in its layout: the inverse of
/// `StunAttributeDecoder`. `decode(encode(v)) == v` for every value the
/// decoder can produce, and `encode(decode(b)) == b` whenever `b` is in
/// canonical form (reserved bits zero, valid UTF-8, error numbers below 100,
/// no PASSWORD-ALGORITHMS parameters): the decoder drops what the RFCs call
/// reserved, so a writer can only put zeros back.
enum StunAttributeEncoder {
    /// Appends the value of an attribute of `type` laid out as `layout`.
    /// `declaredLength` is the attribute's length field: layouts whose
    /// decoder reads a prefix are zero-filled up to it (REQUESTED-TRANSPORT's
    /// 3 reserved bytes), all others must encode to exactly that many bytes.
    /// XOR-ed addresses are XOR-ed with header bytes 4..<20, the transaction
    /// id as `StunTransactionID` holds it (RFC 8489 section 14.2).
    static func encode(_ value: StunAttributeValue, type: StunAttributeType, layout: StunValueLayout,
                       declaredLength: Int, transactionID: StunTransactionID,
                       into out: inout [UInt8]) throws(StunEmitError) {
        let start = out.count
        try encodeValue(value, type: type, layout: layout, transactionID: transactionID, into: &out)
        let encoded = out.count &- start
        if declaredLength > encoded, layout.readsPrefix, !value.isOpaque {
            out += [UInt8](repeating: 0, count: declaredLength &- encoded)
        } else if declaredLength != encoded {
            out.removeSubrange(start...)
            throw .lengthMismatch(type, declared: declaredLength, encoded: encoded)
        }
    }

    /// The length field a new attribute with this value gets: the encoded
    /// size, and 4 for the one- and two-byte numbers that RFC 8656 and
    /// RFC 5780 follow with reserved bytes (REQUESTED-TRANSPORT,
    /// CHANNEL-NUMBER, RESPONSE-PORT, REQUESTED-ADDRESS-FAMILY). 0 for a value
    /// that cannot be written (`.invalid`, or one that does not fit the
    /// layout): emitting the attribute then says why.
    static func canonicalLength(of value: StunAttributeValue, layout: StunValueLayout) -> Int {
        switch (value, layout) {
        case (.unsigned, .unsigned8), (.unsigned, .unsigned16): return 4
        case let (.data(summary), .data): return summary.length
        default:
            var scratch: [UInt8] = []
            let anyID = StunTransactionID(high: 0, low: 0, isClassic: false)
            do { try encodeValue(value, type: StunAttributeType(0), layout: layout, transactionID: anyID, into: &scratch) } catch { return 0 }
            return scratch.count
        }
    }

    /// The value's bytes alone, without the length rule. DATA (`.data`) is
    /// not written here: its bytes are not in the value (`StunMessage.emit`
    /// takes them separately).
    private static func encodeValue(_ value: StunAttributeValue, type: StunAttributeType, layout: StunValueLayout,
                                    transactionID: StunTransactionID, into out: inout [UInt8]) throws(StunEmitError) {
        switch (value, layout) {
        case let (.bytes(bytes), _):
            out += bytes
        case let (.address(endpoint), .address):
            address(endpoint, xorWith: nil, into: &out)
        case let (.address(endpoint), .xorAddress):
            address(endpoint, xorWith: transactionID, into: &out)
        case let (.string(text), .string):
            out += Array(text.utf8)
        case let (.unsigned(number), .unsigned8):
            try unsigned(number, bytes: 1, type: type, into: &out)
        case let (.unsigned(number), .unsigned16):
            try unsigned(number, bytes: 2, type: type, into: &out)
        case let (.unsigned(number), .unsigned32):
            try unsigned(number, bytes: 4, type: type, into: &out)
        case let (.unsigned(number), .unsigned64):
            try unsigned(number, bytes: 8, type: type, into: &out)
        case let (.errorCode(code, reason), .errorCode):
            try errorCode(code, reason: reason, firstByte: 0, type: type, into: &out)
        case let (.addressErrorCode(family, code, reason), .addressErrorCode):
            try errorCode(code, reason: reason, firstByte: family, type: type, into: &out)
        case let (.changeRequest(changeIP, changePort), .changeRequest):
            append32((changeIP ? 0x4 : 0) | (changePort ? 0x2 : 0), to: &out)
        case let (.evenPort(reserveNext), .evenPort):
            out.append(reserveNext ? 0x80 : 0)
        case (.empty, .empty):
            break
        case let (.unsigned16List(list), .unsigned16List):
            for item in list { append16(item, to: &out) }
        case let (.passwordAlgorithms(algorithms), .passwordAlgorithms):
            // Each entry: algorithm, then a parameter length of 0 (RFC 8489 18.5.1 defines no parameters).
            for algorithm in algorithms {
                append16(algorithm, to: &out)
                append16(0, to: &out)
            }
        case let (.icmp(icmpType, code, errorData), .icmp):
            out += [0, 0, icmpType, code]
            append32(errorData, to: &out)
        case let (.networkInfo(networkID, cost), .networkInfo):
            append16(networkID, to: &out)
            append16(cost, to: &out)
        case let (.transmitCounter(request, response), .transmitCounter):
            out += [0, 0, request, response]
        case let (.invalid(reason), _):
            throw .unrepresentable(type, reason: "its value could not be read (\(reason)), so its bytes are not known")
        default:
            throw .unrepresentable(type, reason: "a \(value.caseName) value does not fit the \(layout) layout")
        }
    }

    /// Family, port and address (RFC 8489 14.1); X-Port and X-Address are
    /// XOR-ed with the cookie and transaction id when `xorWith` is given.
    static func address(_ endpoint: Endpoint, xorWith transactionID: StunTransactionID?, into out: inout [UInt8]) {
        var port = endpoint.port
        if let transactionID { port ^= UInt16(truncatingIfNeeded: transactionID.high >> 48) }
        switch endpoint.address {
        case var .v4(ip):
            if let transactionID { ip ^= UInt32(truncatingIfNeeded: transactionID.high >> 32) }
            out += [0, 1]
            append16(port, to: &out)
            append32(ip, to: &out)
        case .v6(var high, var low):
            if let transactionID {
                high ^= transactionID.high
                low ^= transactionID.low
            }
            out += [0, 2]
            append16(port, to: &out)
            append64(high, to: &out)
            append64(low, to: &out)
        }
    }

    /// ERROR-CODE / ADDRESS-ERROR-CODE: first byte (0, or the address
    /// family), a reserved byte, class, number, reason (RFC 8489 14.8).
    static func errorCode(_ code: Int, reason: String, firstByte: UInt8, type: StunAttributeType,
                          into out: inout [UInt8]) throws(StunEmitError) {
        // The class has 3 bits; the decoder reads class * 100 + number.
        guard (0...799).contains(code) else { throw .unrepresentable(type, reason: "error code \(code) is not within 0...799") }
        out += [firstByte, 0, UInt8(code / 100), UInt8(code % 100)]
        out += Array(reason.utf8)
    }

    static func unsigned(_ number: UInt64, bytes: Int, type: StunAttributeType, into out: inout [UInt8]) throws(StunEmitError) {
        guard bytes == 8 || number >> UInt64(8 * bytes) == 0 else {
            throw .unrepresentable(type, reason: "\(number) does not fit in \(bytes) bytes")
        }
        for index in stride(from: bytes - 1, through: 0, by: -1) {
            out.append(UInt8(truncatingIfNeeded: number >> UInt64(8 * index)))
        }
    }

    static func append16(_ value: UInt16, to out: inout [UInt8]) {
        // Two appends, not `+= [a, b]`: an array literal allocates, and this runs per field.
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }

    static func append32(_ value: UInt32, to out: inout [UInt8]) {
        append16(UInt16(truncatingIfNeeded: value >> 16), to: &out)
        append16(UInt16(truncatingIfNeeded: value), to: &out)
    }

    static func append64(_ value: UInt64, to out: inout [UInt8]) {
        append32(UInt32(truncatingIfNeeded: value >> 32), to: &out)
        append32(UInt32(truncatingIfNeeded: value), to: &out)
    }
}

extension StunValueLayout {
    /// The decoder reads only the first bytes of these values and ignores the
    /// rest (reserved bytes, an odd trailing byte of a 16-bit list).
    var readsPrefix: Bool {
        switch self {
        case .unsigned8, .unsigned16, .evenPort, .unsigned16List: return true
        default: return false
        }
    }
}

extension StunAttributeValue {
    /// `.bytes` is written verbatim whatever the type's layout: the way to
    /// write a value the decoder would reject, and what the decoder produces
    /// for opaque types.
    var isOpaque: Bool { if case .bytes = self { return true } else { return false } }

    var caseName: String {
        switch self {
        case .address: return "address"
        case .unsigned: return "unsigned"
        case .string: return "string"
        case .errorCode: return "errorCode"
        case .addressErrorCode: return "addressErrorCode"
        case .changeRequest: return "changeRequest"
        case .evenPort: return "evenPort"
        case .empty: return "empty"
        case .unsigned16List: return "unsigned16List"
        case .data: return "data"
        case .bytes: return "bytes"
        case .passwordAlgorithms: return "passwordAlgorithms"
        case .icmp: return "icmp"
        case .networkInfo: return "networkInfo"
        case .transmitCounter: return "transmitCounter"
        case .invalid: return "invalid"
        }
    }
}
