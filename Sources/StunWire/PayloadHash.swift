import NetworkVocabulary

/// A 64-bit hash of payload bytes.
///
/// Reconstruction pairs a datagram on a relay's peer leg with the
/// ChannelData / DATA attribute that carried the same bytes on the client
/// leg, so both sides must hash exactly the application payload with this
/// one function. It reads 8 bytes per step and allocates nothing; it is not
/// a cryptographic hash (payloads are not adversarial to each other here).
public enum PayloadHash {
    @inlinable public static func hash64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ (UInt64(truncatingIfNeeded: bytes.count) &* multiplier)
        var offset = 0
        let count = bytes.count
        while count &- offset >= 8 {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            h = (h ^ mix(word)) &* multiplier
            h ^= h >> 32
            offset &+= 8
        }
        if offset < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(bytes[offset]) << shift
                shift &+= 8
                offset &+= 1
            }
            h = (h ^ mix(tail)) &* multiplier
        }
        return mix(h)
    }

    /// splitmix64's finaliser: every input bit affects every output bit.
    @inlinable static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A payload reduced to what Reconstruction needs: its size, its hash and
/// its RFC 7983 class. Cheap to copy; the bytes themselves are not kept.
public struct PayloadSummary: Hashable, Sendable {
    public var length: Int
    public var hash: UInt64
    public var payloadClass: PayloadClass

    public init(length: Int, hash: UInt64, payloadClass: PayloadClass) {
        self.length = length
        self.hash = hash
        self.payloadClass = payloadClass
    }

    @inlinable public init(_ payload: UnsafeRawBufferPointer, transport: TransportProtocol = .udp) {
        length = payload.count
        hash = PayloadHash.hash64(payload)
        payloadClass = PayloadClass.classify(payload, transport: transport)
    }
}
