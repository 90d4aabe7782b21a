import Crypto

/// The value of MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 section 14.5) and of
/// MESSAGE-INTEGRITY-SHA256 (RFC 8489 section 14.6): the HMAC of the message
/// up to the attribute, with the header's length field set as if the
/// attribute ended the message. One computation serves `IntegrityVerifier`,
/// `StunMessage.emit` and `StunMessageBuilder`, so what is written is what
/// is checked.
enum MessageIntegrityCode {
    /// `bytes[0..<end]` is the message before the attribute's header; the caller has checked `end >= 20`.
    static func sha1(_ bytes: UnsafeRawBufferPointer, upTo end: Int, key: StunKey) -> [UInt8] {
        var hmac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: key.bytes))
        feed(&hmac, bytes, upTo: end, valueLength: 20)
        return Array(hmac.finalize())
    }

    /// Truncated to `valueLength` bytes (RFC 8489 allows 16 to 32, in steps of 4).
    static func sha256(_ bytes: UnsafeRawBufferPointer, upTo end: Int, valueLength: Int, key: StunKey) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key.bytes))
        feed(&hmac, bytes, upTo: end, valueLength: valueLength)
        return Array(Array(hmac.finalize()).prefix(valueLength))
    }

    static let sha256ValueLengths = stride(from: 16, through: 32, by: 4)

    private static func feed<H: HashFunction>(_ hmac: inout HMAC<H>, _ bytes: UnsafeRawBufferPointer,
                                              upTo end: Int, valueLength: Int) {
        let lengthField = UInt16(truncatingIfNeeded: end &+ StunHeader.attributeHeaderLength &+ valueLength &- StunHeader.length)
        hmac.update(data: UnsafeRawBufferPointer(rebasing: bytes[0..<2]))
        hmac.update(data: [UInt8(truncatingIfNeeded: lengthField >> 8), UInt8(truncatingIfNeeded: lengthField)])
        hmac.update(data: UnsafeRawBufferPointer(rebasing: bytes[4..<end]))
    }
}
