import Crypto
import Foundation
import NetworkVocabulary

/// Writes STUN messages: the inverse of `StunMessage(view)`. Used by tests
/// and synthetic traffic generators; attributes are appended in call order,
/// padded to 4 bytes (RFC 5389) unless `padded` is false.
public struct StunMessageBuilder {
    public private(set) var bytes: [UInt8]
    public let padded: Bool

    /// `transactionID`: 12 bytes, or 16 for a classic (cookie-less) message.
    public init(type: StunMessageType, transactionID: [UInt8], padded: Bool = true) {
        precondition(transactionID.count == 12 || transactionID.count == 16, "transaction id is 12 or 16 bytes")
        self.padded = padded
        bytes = [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 0]
        if transactionID.count == 12 {
            bytes += [0x21, 0x12, 0xA4, 0x42]
        }
        bytes += transactionID
    }

    public mutating func add(_ type: StunAttributeType, _ value: [UInt8]) {
        bytes += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF),
                  UInt8((value.count >> 8) & 0xFF), UInt8(value.count & 0xFF)]
        bytes += value
        if padded {
            bytes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
        }
        setLength(bytes.count - StunHeader.length)
    }

    public mutating func add(_ type: StunAttributeType, string: String) { add(type, Array(string.utf8)) }

    public mutating func add(_ type: StunAttributeType, uint32 value: UInt32) { add(type, StunMessageBuilder.be32(value)) }

    public mutating func add(_ type: StunAttributeType, uint64 value: UInt64) {
        add(type, StunMessageBuilder.be32(UInt32(value >> 32)) + StunMessageBuilder.be32(UInt32(value & 0xFFFF_FFFF)))
    }

    /// An address attribute; XOR-ed with the header when `xor` is true.
    public mutating func add(_ type: StunAttributeType, address: Endpoint, xor: Bool) {
        var value: [UInt8] = [0]
        var port = address.port
        if xor { port ^= 0x2112 }
        switch address.address {
        case let .v4(ip):
            value += [1, UInt8(port >> 8), UInt8(port & 0xFF)]
            value += StunMessageBuilder.be32(xor ? ip ^ StunHeader.magicCookie : ip)
        case let .v6(high, low):
            value += [2, UInt8(port >> 8), UInt8(port & 0xFF)]
            var raw = StunMessageBuilder.be32(UInt32(high >> 32)) + StunMessageBuilder.be32(UInt32(high & 0xFFFF_FFFF))
            raw += StunMessageBuilder.be32(UInt32(low >> 32)) + StunMessageBuilder.be32(UInt32(low & 0xFFFF_FFFF))
            if xor {
                for i in 0..<16 { raw[i] ^= bytes[4 + i] }
            }
            value += raw
        }
        add(type, value)
    }

    public mutating func addErrorCode(_ code: Int, reason: String) {
        add(.errorCode, [0, 0, UInt8((code / 100) & 0x07), UInt8(code % 100)] + Array(reason.utf8))
    }

    /// MESSAGE-INTEGRITY over everything so far (RFC 8489 14.5).
    public mutating func addMessageIntegrity(key: StunKey) {
        setLength(bytes.count + 24 - StunHeader.length)
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: bytes, using: SymmetricKey(data: key.bytes)))
        add(.messageIntegrity, mac)
    }

    /// MESSAGE-INTEGRITY-SHA256 (full 32 bytes) over everything so far (RFC 8489 14.6).
    public mutating func addMessageIntegritySHA256(key: StunKey) {
        setLength(bytes.count + 36 - StunHeader.length)
        let mac = Array(HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: key.bytes)))
        add(.messageIntegritySHA256, mac)
    }

    /// FINGERPRINT over everything so far (RFC 8489 14.7).
    public mutating func addFingerprint() {
        setLength(bytes.count + 8 - StunHeader.length)
        let crc = bytes.withUnsafeBytes { CRC32.checksum($0) } ^ StunFingerprint.xorValue
        add(.fingerprint, StunMessageBuilder.be32(crc))
    }

    private mutating func setLength(_ length: Int) {
        bytes[2] = UInt8((length >> 8) & 0xFF)
        bytes[3] = UInt8(length & 0xFF)
    }

    static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}
