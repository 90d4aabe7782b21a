import NetworkVocabulary
import PacketDecoding

/// Turns one raw attribute value into a `StunAttributeValue` according to
/// its layout. Every read is bounds-checked by length tests first; a value
/// that does not fit becomes `.invalid` with the reason, never a trap.
enum StunAttributeDecoder {
    /// `header` is the message's first 20 bytes: XOR-ed addresses are
    /// un-XORed with bytes 4..<20 (cookie || transaction id, RFC 8489 14.2).
    static func decode(_ v: UnsafeRawBufferPointer, layout: StunValueLayout, name: String,
                       header: UnsafeRawBufferPointer) -> StunAttributeValue {
        switch layout {
        case .address:
            return address(v, name: name, xorWith: nil)
        case .xorAddress:
            return address(v, name: name, xorWith: header)
        case .string:
            // Not UTF-8 (MS-TURN's USERNAME is a binary token): kept as bytes, so nothing is lost
            // and it re-encodes exactly.
            if let text = String(validating: v, as: UTF8.self) { return .string(text) }
            return .bytes(StunBytes(v))
        case .unsigned8:
            guard v.count >= 1 else { return tooShort(name, v.count, 1) }
            return .unsigned(UInt64(v[0]))
        case .unsigned16:
            guard v.count >= 2 else { return tooShort(name, v.count, 2) }
            return .unsigned(UInt64(v.loadBE16(0)))
        case .unsigned32:
            guard v.count == 4 else { return wrongLength(name, v.count, 4) }
            return .unsigned(UInt64(v.loadBE32(0)))
        case .unsigned64:
            guard v.count == 8 else { return wrongLength(name, v.count, 8) }
            return .unsigned(v.loadBE64(0))
        case .errorCode:
            guard v.count >= 4 else { return tooShort(name, v.count, 4) }
            return .errorCode(code: errorNumber(v, at: 2), reason: String(decoding: v[4...], as: UTF8.self))
        case .addressErrorCode:
            guard v.count >= 4 else { return tooShort(name, v.count, 4) }
            return .addressErrorCode(family: v[0], code: errorNumber(v, at: 2),
                                     reason: String(decoding: v[4...], as: UTF8.self))
        case .changeRequest:
            guard v.count == 4 else { return wrongLength(name, v.count, 4) }
            let flags = v.loadBE32(0)
            return .changeRequest(changeIP: flags & 0x4 != 0, changePort: flags & 0x2 != 0)
        case .evenPort:
            guard v.count >= 1 else { return tooShort(name, v.count, 1) }
            return .evenPort(reserveNext: v[0] & 0x80 != 0)
        case .empty:
            return v.isEmpty ? .empty : .bytes(StunBytes(v))
        case .unsigned16List:
            var list: [UInt16] = []
            list.reserveCapacity(v.count / 2)
            var offset = 0
            while v.count &- offset >= 2 {
                list.append(v.loadBE16(offset))
                offset &+= 2
            }
            return .unsigned16List(list)
        case .data:
            return .data(PayloadSummary(v))
        case .bytes:
            return .bytes(StunBytes(v))
        case .passwordAlgorithms:
            // Each entry: algorithm (2), parameter length (2), parameters padded to 4.
            var algorithms: [UInt16] = []
            var offset = 0
            while offset < v.count {
                guard v.count &- offset >= 4 else { return .invalid("\(name): \(v.count &- offset) stray bytes") }
                let parameters = (Int(v.loadBE16(offset &+ 2)) &+ 3) & ~3
                algorithms.append(v.loadBE16(offset))
                guard parameters <= v.count &- offset &- 4 else {
                    return .invalid("\(name): parameters overrun the attribute")
                }
                offset &+= 4 &+ parameters
            }
            return .passwordAlgorithms(algorithms)
        case .icmp:
            guard v.count == 8 else { return wrongLength(name, v.count, 8) }
            return .icmp(type: v[2], code: v[3], errorData: v.loadBE32(4))
        case .networkInfo:
            guard v.count == 4 else { return wrongLength(name, v.count, 4) }
            return .networkInfo(networkID: v.loadBE16(0), cost: v.loadBE16(2))
        case .transmitCounter:
            guard v.count == 4 else { return wrongLength(name, v.count, 4) }
            return .transmitCounter(request: v[2], response: v[3])
        }
    }

    /// Class (3 bits) * 100 + number (RFC 8489 14.8).
    static func errorNumber(_ v: UnsafeRawBufferPointer, at offset: Int) -> Int {
        Int(v[offset] & 0x07) &* 100 &+ Int(v[offset &+ 1])
    }

    /// Family 1 (IPv4, 8 bytes) or 2 (IPv6, 20 bytes); X-Port and X-Address
    /// are XOR-ed with the header's bytes 4..<20 when `xorWith` is given.
    static func address(_ v: UnsafeRawBufferPointer, name: String, xorWith header: UnsafeRawBufferPointer?) -> StunAttributeValue {
        guard v.count >= 4 else { return tooShort(name, v.count, 4) }
        let family = v[1]
        var port = v.loadBE16(2)
        if let header { port ^= UInt16(truncatingIfNeeded: header.loadBE32(4) >> 16) }
        switch family {
        case 1:
            guard v.count == 8 else { return wrongLength(name, v.count, 8) }
            var ip = v.loadBE32(4)
            if let header { ip ^= header.loadBE32(4) }
            return .address(Endpoint(.v4(ip), port))
        case 2:
            guard v.count == 20 else { return wrongLength(name, v.count, 20) }
            var high = v.loadBE64(4)
            var low = v.loadBE64(12)
            if let header {
                high ^= header.loadBE64(4)
                low ^= header.loadBE64(12)
            }
            return .address(Endpoint(.v6(high, low), port))
        default:
            return .invalid("\(name): unknown address family \(family)")
        }
    }

    static func tooShort(_ name: String, _ count: Int, _ needed: Int) -> StunAttributeValue {
        .invalid("\(name): \(count) bytes, needs at least \(needed)")
    }

    static func wrongLength(_ name: String, _ count: Int, _ needed: Int) -> StunAttributeValue {
        .invalid("\(name): \(count) bytes, expected \(needed)")
    }
}
