import NetworkVocabulary

/// A bounds-checked big-endian cursor over borrowed bytes.
///
/// Packets are attacker-controlled, so every read checks the remaining
/// length and fails with a value instead of trapping; nothing is copied.
public struct ByteReader {
    public let buffer: UnsafeRawBufferPointer
    public var offset: Int

    public struct OutOfBounds: Error, Equatable {
        @inlinable public init(offset: Int, wanted: Int, available: Int) {
            self.offset = offset; self.wanted = wanted; self.available = available
        }
        public let offset: Int
        public let wanted: Int
        public let available: Int
    }

    @inlinable public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    @inlinable public var remaining: Int { buffer.count &- offset }
    @inlinable public var isAtEnd: Bool { offset >= buffer.count }

    @inlinable public func check(_ n: Int) throws(OutOfBounds) {
        guard n >= 0, n <= buffer.count &- offset else {
            throw OutOfBounds(offset: offset, wanted: n, available: buffer.count &- offset)
        }
    }

    @inlinable public mutating func readUInt8() throws(OutOfBounds) -> UInt8 {
        try check(1)
        defer { offset &+= 1 }
        return buffer[offset]
    }

    @inlinable public mutating func readUInt16() throws(OutOfBounds) -> UInt16 {
        try check(2)
        defer { offset &+= 2 }
        return buffer.loadBE16(offset)
    }

    @inlinable public mutating func readUInt32() throws(OutOfBounds) -> UInt32 {
        try check(4)
        defer { offset &+= 4 }
        return buffer.loadBE32(offset)
    }

    @inlinable public mutating func readUInt64() throws(OutOfBounds) -> UInt64 {
        try check(8)
        defer { offset &+= 8 }
        return buffer.loadBE64(offset)
    }

    /// A sub-view of the next `count` bytes (no copy).
    @inlinable public mutating func readBytes(_ count: Int) throws(OutOfBounds) -> UnsafeRawBufferPointer {
        try check(count)
        defer { offset &+= count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset &+ count)])
    }

    @inlinable public mutating func skip(_ count: Int) throws(OutOfBounds) {
        try check(count)
        offset &+= count
    }

    /// The unread rest, as a view.
    @inlinable public var rest: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[min(offset, buffer.count)...])
    }
}

extension UnsafeRawBufferPointer {
    /// Big-endian loads; callers have checked bounds.
    @inlinable public func loadBE16(_ at: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }
    @inlinable public func loadBE32(_ at: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    @inlinable public func loadBE64(_ at: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    /// A bounds-checked sub-view; nil when the range does not fit.
    @inlinable public func slice(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer? {
        guard start >= 0, count >= 0, start <= self.count, count <= self.count &- start else { return nil }
        return UnsafeRawBufferPointer(rebasing: self[start..<(start &+ count)])
    }
}

extension IPAddress {
    /// Reads 4 or 16 network-order bytes.
    @inlinable public static func read(_ b: UnsafeRawBufferPointer, at offset: Int, ipv6: Bool) -> IPAddress {
        ipv6 ? .v6(b.loadBE64(offset), b.loadBE64(offset &+ 8)) : .v4(b.loadBE32(offset))
    }
}
