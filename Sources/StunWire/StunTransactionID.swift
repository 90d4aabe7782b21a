import PacketDecoding

/// A STUN transaction id as a fixed-size value: 96 bits after the magic
/// cookie (RFC 5389 and later), or the 128 bits of a classic RFC 3489 header
/// that has no cookie. Hashable and free to copy, so transaction tables
/// allocate nothing per key.
public struct StunTransactionID: Hashable, Sendable, CustomStringConvertible {
    /// Header bytes 4..<12 (for RFC 5389 the cookie, then id bytes 0..<4).
    public var high: UInt64
    /// Header bytes 12..<20.
    public var low: UInt64
    /// True when the header has no magic cookie: all 16 bytes are the id.
    public var isClassic: Bool

    public init(high: UInt64, low: UInt64, isClassic: Bool) {
        self.high = isClassic ? high : (high & 0xFFFF_FFFF) | (UInt64(StunHeader.magicCookie) << 32)
        self.low = low
        self.isClassic = isClassic
    }

    /// 12 id bytes (RFC 5389 and later: the cookie goes before them) or the
    /// 16 bytes of a classic header; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 12 || bytes.count == 16 else { return nil }
        let isClassic = bytes.count == 16
        // The memberwise init puts the cookie into the 4 leading bytes of a non-classic id.
        let wire = isClassic ? bytes : [0, 0, 0, 0] + bytes
        self = wire.withUnsafeBytes { StunTransactionID(high: $0.loadBE64(0), low: $0.loadBE64(8), isClassic: isClassic) }
    }

    /// Reads the id from a header whose 20 bytes the caller has checked.
    @inlinable public static func read(header: UnsafeRawBufferPointer, isClassic: Bool) -> StunTransactionID {
        StunTransactionID(high: header.loadBE64(4), low: header.loadBE64(12), isClassic: isClassic)
    }

    /// The 12 id bytes (16 for classic) in wire order.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        let skip = isClassic ? 0 : 4
        for i in skip..<8 { out.append(UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i))) }
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i))) }
        return out
    }

    /// The id bytes as `bytes` has them, read from the words on demand (no array, no closure).
    public var idBytes: IDBytes { IDBytes(high: high, low: low, startIndex: isClassic ? 0 : 4) }

    public struct IDBytes: RandomAccessCollection, Sendable {
        let high: UInt64
        let low: UInt64
        public let startIndex: Int
        public var endIndex: Int { 16 }

        public subscript(i: Int) -> UInt8 {
            precondition(i >= startIndex && i < 16, "transaction id byte out of range")
            return i < 8 ? UInt8(truncatingIfNeeded: high >> UInt64(56 &- 8 &* i)) : UInt8(truncatingIfNeeded: low >> UInt64(120 &- 8 &* i))
        }
    }

    /// Lowercase hex: 24 digits, or 32 for classic ids.
    public var hex: String {
        var digits: [UInt8] = []
        digits.reserveCapacity(32)
        let table = Array("0123456789abcdef".utf8)
        for byte in bytes {
            digits.append(table[Int(byte >> 4)])
            digits.append(table[Int(byte & 0xF)])
        }
        return String(decoding: digits, as: UTF8.self)
    }

    public var description: String { hex }
}
