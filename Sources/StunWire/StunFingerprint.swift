/// FINGERPRINT (RFC 8489 section 14.7): CRC-32 of the message up to the
/// attribute, XOR 0x5354554E, with the header length covering the attribute.
public enum StunFingerprint {
    static let xorValue: UInt32 = 0x5354_554E

    /// Nil when the message has no FINGERPRINT.
    public static func check(_ view: StunMessageView) -> StunCheckResult? {
        var iterator = view.attributes
        while let attribute = iterator.next() {
            guard attribute.type == StunAttributeType.fingerprint.rawValue else { continue }
            guard attribute.value.count == 4 else { return .invalid }
            let covered = attribute.offset
            let adjustedLength = UInt16(truncatingIfNeeded: covered &+ 8 &- StunHeader.length)
            let computed = crc(view.bytes, upTo: covered, lengthField: adjustedLength) ^ xorValue
            return computed == attribute.value.loadBE32(0) ? .valid : .invalid
        }
        return nil
    }

    /// CRC over bytes 0..<`upTo` with the length field replaced by `lengthField`.
    static func crc(_ bytes: UnsafeRawBufferPointer, upTo end: Int, lengthField: UInt16) -> UInt32 {
        var crc = CRC32()
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[0..<2]))
        crc.update(byte: UInt8(truncatingIfNeeded: lengthField >> 8))
        crc.update(byte: UInt8(truncatingIfNeeded: lengthField))
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[4..<end]))
        return crc.value
    }
}
