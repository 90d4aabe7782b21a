/// An opaque attribute value (MESSAGE-INTEGRITY, USERHASH, RESERVATION-TOKEN,
/// an unknown attribute) as bytes. Up to `inlineCapacity` bytes are held in
/// the value itself: MESSAGE-INTEGRITY's 20 bytes ride on every ICE check and
/// most TURN requests, and one heap array per message was the hot path's
/// largest allocation. Longer values (MESSAGE-INTEGRITY-SHA256, USERHASH,
/// unknown attributes) are kept in an array.
public struct StunBytes: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    public static let inlineCapacity = 24

    private var inline: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var heap: [UInt8]?
    public let count: Int

    public init(_ bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        if bytes.count > StunBytes.inlineCapacity {
            heap = Array(bytes)
        } else if let base = bytes.baseAddress {
            withUnsafeMutableBytes(of: &inline) { $0.baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
        }
    }

    public init(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        self = array.withUnsafeBytes { StunBytes($0) }
    }

    public init(arrayLiteral elements: UInt8...) {
        self.init(elements)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "StunBytes index out of range")
        if let heap { return heap[position] }
        return withUnsafeBytes(of: inline) { $0[position] }
    }

    /// The bytes, for APIs that take an array.
    public var array: [UInt8] { heap ?? withUnsafeBytes(of: inline) { Array($0.prefix(count)) } }

    public static func == (a: StunBytes, b: StunBytes) -> Bool {
        a.count == b.count && a.elementsEqual(b)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for byte in self { hasher.combine(byte) }
    }
}

extension StunBytes: CustomStringConvertible {
    public var description: String { array.description }
}
