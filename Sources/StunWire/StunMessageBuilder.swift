import NetworkVocabulary
import PacketDecoding

/// Builds STUN messages attribute by attribute, for tests and tools. It is a
/// front for `StunMessage.emit`, the one STUN writer: every value is given
/// as the bytes it should have (`.bytes`, written verbatim, so a test can
/// write what a decoder must reject), attributes are appended in call order
/// and padded with zeros to 4 bytes (RFC 8489) unless `padded` is false
/// (RFC 3489, MS-TURN).
public struct StunMessageBuilder {
    /// The message so far, in wire form.
    public private(set) var bytes: [UInt8]
    public let padded: Bool
    private var message: StunMessage

    /// `transactionID`: 12 bytes, or 16 for a classic (cookie-less) message.
    public init(type: StunMessageType, transactionID: [UInt8], padded: Bool = true) {
        guard let id = StunTransactionID(bytes: transactionID) else {
            preconditionFailure("transaction id is 12 or 16 bytes")
        }
        self.padded = padded
        message = StunMessage(type: type, transactionID: id, dialect: id.isClassic ? .classic : .rfc5389)
        bytes = []
        emit()
    }

    public mutating func add(_ type: StunAttributeType, _ value: [UInt8]) {
        append(type, .bytes(StunBytes(value)), length: value.count)
    }

    public mutating func add(_ type: StunAttributeType, string: String) { add(type, Array(string.utf8)) }

    public mutating func add(_ type: StunAttributeType, uint32 value: UInt32) {
        var value32: [UInt8] = []
        StunAttributeEncoder.append32(value, to: &value32)
        add(type, value32)
    }

    public mutating func add(_ type: StunAttributeType, uint64 value: UInt64) {
        var value64: [UInt8] = []
        StunAttributeEncoder.append64(value, to: &value64)
        add(type, value64)
    }

    /// An address attribute; XOR-ed with the header when `xor` is true
    /// (whether or not the type's layout is an XOR one, so tests can get it wrong on purpose).
    public mutating func add(_ type: StunAttributeType, address: Endpoint, xor: Bool) {
        var value: [UInt8] = []
        StunAttributeEncoder.address(address, xorWith: xor ? message.transactionID : nil, into: &value)
        add(type, value)
    }

    public mutating func addErrorCode(_ code: Int, reason: String) {
        var value: [UInt8] = []
        do {
            try StunAttributeEncoder.errorCode(code, reason: reason, firstByte: 0, type: .errorCode, into: &value)
        } catch {
            preconditionFailure("StunMessageBuilder: \(error)")
        }
        add(.errorCode, value)
    }

    /// MESSAGE-INTEGRITY over everything so far (RFC 8489 14.5).
    public mutating func addMessageIntegrity(key: StunKey) {
        let mac = bytes.withUnsafeBytes { MessageIntegrityCode.sha1($0, upTo: $0.count, key: key) }
        add(.messageIntegrity, mac)
    }

    /// MESSAGE-INTEGRITY-SHA256 (full 32 bytes) over everything so far (RFC 8489 14.6).
    public mutating func addMessageIntegritySHA256(key: StunKey) {
        let mac = bytes.withUnsafeBytes { MessageIntegrityCode.sha256($0, upTo: $0.count, valueLength: 32, key: key) }
        add(.messageIntegritySHA256, mac)
    }

    /// FINGERPRINT over everything so far (RFC 8489 14.7); `emit` computes it.
    public mutating func addFingerprint() {
        append(.fingerprint, .unsigned(0), length: 4)
    }

    private mutating func append(_ type: StunAttributeType, _ value: StunAttributeValue, length: Int) {
        let name = type.meaning(in: message.dialect).name
        let padding = padded ? StunPadding(zerosAfterValueOf: length) : StunPadding.absent
        message.attributes.append(StunAttribute(type: type, name: name, length: length, value: value, padding: padding))
        emit()
    }

    /// Values are bytes and FINGERPRINT is computed, so only a message over 64 KiB can fail.
    private mutating func emit() {
        do {
            bytes = try message.emitted()
        } catch {
            preconditionFailure("StunMessageBuilder: \(error)")
        }
    }
}
