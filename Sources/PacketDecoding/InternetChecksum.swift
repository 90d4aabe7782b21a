import NetworkVocabulary

/// The Internet checksum (RFC 1071): the one's complement of the one's
/// complement sum of 16-bit big-endian words, as IPv4 headers, UDP, TCP and
/// ICMP carry it. The decoder does not check it (captures taken with
/// checksum offload hold zeros or partial sums); writers of packets need it.
///
/// Incremental: pieces of any length can be added, an odd-length piece
/// continuing in the next one as if the bytes were contiguous, so a header
/// and a payload in different buffers sum without being copied together.
public struct InternetChecksum {
    /// Words summed without folding; 64 bits cannot overflow below 2^48 words.
    private var sum: UInt64 = 0
    /// The high byte of a word whose low byte is the next piece's first.
    private var pendingHighByte: UInt8?

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        if let high = pendingHighByte, bytes.count > 0 {
            sum &+= UInt64(high) << 8 | UInt64(bytes[0])
            pendingHighByte = nil
            offset = 1
        }
        while bytes.count &- offset >= 2 {
            sum &+= UInt64(bytes.loadBE16(offset))
            offset &+= 2
        }
        if offset < bytes.count { pendingHighByte = bytes[offset] }
    }

    public mutating func add(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { add($0) }
    }

    /// A 16-bit field, at an even offset of what is summed.
    public mutating func add(_ word: UInt16) {
        precondition(pendingHighByte == nil, "a word added after an odd number of bytes")
        sum &+= UInt64(word)
    }

    /// An address as 2 (IPv4) or 8 (IPv6) words, at an even offset.
    public mutating func add(_ address: IPAddress) {
        switch address {
        case let .v4(a):
            add(UInt16(truncatingIfNeeded: a >> 16))
            add(UInt16(truncatingIfNeeded: a))
        case let .v6(high, low):
            for word in [high, low] {
                for shift in stride(from: 48, through: 0, by: -16) { add(UInt16(truncatingIfNeeded: word >> UInt64(shift))) }
            }
        }
    }

    /// The value for the checksum field: complement of the folded sum, an
    /// odd final byte padded with a zero byte (RFC 1071 section 4.1).
    public var value: UInt16 {
        var folded = sum
        if let high = pendingHighByte { folded &+= UInt64(high) << 8 }
        while folded > 0xFFFF { folded = (folded & 0xFFFF) &+ (folded >> 16) }
        return ~UInt16(folded)
    }

    /// The checksum of an IPv4 header (all `header.count` bytes, options
    /// included), its own checksum field (bytes 10-11) counted as zero.
    public static func ipv4Header(_ header: UnsafeRawBufferPointer) -> UInt16 {
        precondition(header.count >= 20, "an IPv4 header has at least 20 bytes")
        var checksum = InternetChecksum()
        checksum.add(UnsafeRawBufferPointer(rebasing: header[0..<10]))
        checksum.add(UnsafeRawBufferPointer(rebasing: header[12...]))
        return checksum.value
    }

    /// The checksum of a UDP datagram (header and payload) between two
    /// addresses of one family: RFC 768's pseudo-header for IPv4, RFC 8200
    /// section 8.1's for IPv6; the datagram's checksum field (bytes 6-7)
    /// counted as zero. A computed 0 is sent as 0xFFFF, because 0 means "no
    /// checksum" in UDP over IPv4.
    public static func udp(source: IPAddress, destination: IPAddress, datagram: UnsafeRawBufferPointer) -> UInt16 {
        precondition(datagram.count >= 8, "a UDP datagram has an 8-byte header")
        precondition(source.isIPv6 == destination.isIPv6, "both addresses of one family")
        var checksum = InternetChecksum()
        checksum.add(source)
        checksum.add(destination)
        // IPv4: zero byte, protocol, 16-bit UDP length. IPv6: 32-bit length, 3 zero bytes, next header.
        // As sums of 16-bit words both are the length's words plus the protocol.
        if datagram.count > 0xFFFF { checksum.add(UInt16(truncatingIfNeeded: datagram.count >> 16)) }
        checksum.add(UInt16(truncatingIfNeeded: datagram.count))
        checksum.add(UInt16(TransportProtocol.udp.rawValue))
        checksum.add(UnsafeRawBufferPointer(rebasing: datagram[0..<6]))
        checksum.add(UnsafeRawBufferPointer(rebasing: datagram[8...]))
        let value = checksum.value
        return value == 0 ? 0xFFFF : value
    }
}
