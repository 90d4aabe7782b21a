import Crypto
import Foundation

/// Verifies MESSAGE-INTEGRITY (HMAC-SHA1) and MESSAGE-INTEGRITY-SHA256.
///
/// Requests name their user (USERNAME / USERHASH); responses do not, but
/// are protected with the request's key, so the keys tried for a request
/// are remembered by transaction id in a bounded table (oldest forgotten
/// first, and counted).
public final class IntegrityVerifier {
    public let credentials: CredentialStore
    public let transactionCapacity: Int
    /// Requests whose keys were forgotten to stay within `transactionCapacity`.
    public private(set) var evictedTransactions = 0

    private var keysByTransaction: [StunTransactionID: [IntegrityKey]] = [:]
    private var insertionOrder: [StunTransactionID] = []
    private var oldest = 0

    public init(credentials: CredentialStore, transactionCapacity: Int = 65_536) {
        self.credentials = credentials
        self.transactionCapacity = max(1, transactionCapacity)
    }

    /// Sets `message.integrity`: nil without an integrity attribute, else
    /// `valid` / `invalid`, or `unchecked` when no key is known.
    public func verify(_ view: StunMessageView, _ message: inout StunMessage) {
        var sha1: StunRawAttribute?
        var sha256: StunRawAttribute?
        var iterator = view.attributes
        while let attribute = iterator.next() {
            if attribute.type == StunAttributeType.messageIntegrity.rawValue, sha1 == nil { sha1 = attribute }
            if attribute.type == StunAttributeType.messageIntegritySHA256.rawValue, sha256 == nil { sha256 = attribute }
        }
        guard sha1 != nil || sha256 != nil else {
            message.integrity = nil
            return
        }
        if credentials.isEmpty {
            message.integrity = .unchecked
            return
        }
        var keys = credentials.candidateKeys(for: message)
        if message.messageClass.isResponse {
            keys += keysByTransaction[message.transactionID] ?? []
        } else if !keys.isEmpty {
            remember(keys, for: message.transactionID)
        }
        guard !keys.isEmpty else {
            message.integrity = .unchecked
            return
        }
        for candidate in keys {
            if let sha256, IntegrityVerifier.matchesSHA256(view, sha256, key: candidate.key) {
                message.integrity = .valid
                return
            }
            if let sha1, IntegrityVerifier.matchesSHA1(view, sha1, key: candidate.key, dialect: message.dialect) {
                message.integrity = .valid
                return
            }
        }
        message.integrity = .invalid
    }

    private func remember(_ keys: [IntegrityKey], for id: StunTransactionID) {
        if keysByTransaction.updateValue(keys, forKey: id) != nil { return }
        if insertionOrder.count < transactionCapacity {
            insertionOrder.append(id)
            return
        }
        // Ring buffer: overwrite the oldest id.
        keysByTransaction.removeValue(forKey: insertionOrder[oldest])
        evictedTransactions += 1
        insertionOrder[oldest] = id
        oldest = (oldest + 1) % transactionCapacity
    }

    /// RFC 8489 14.5: HMAC-SHA1 over the message up to the attribute, with
    /// the length field covering the attribute. RFC 3489 (classic) instead
    /// kept the length and zero-padded the text to a multiple of 64 bytes.
    static func matchesSHA1(_ view: StunMessageView, _ attribute: StunRawAttribute, key: StunKey, dialect: StunDialect) -> Bool {
        guard attribute.value.count == 20 else { return false }
        if equal(MessageIntegrityCode.sha1(view.bytes, upTo: attribute.offset, key: key), attribute.value) { return true }
        guard dialect != .rfc5389 else { return false }
        var classic = HMAC<Insecure.SHA1>(key: SymmetricKey(data: key.bytes))
        classic.update(data: UnsafeRawBufferPointer(rebasing: view.bytes[0..<attribute.offset]))
        let padding = (64 - attribute.offset % 64) % 64
        classic.update(data: [UInt8](repeating: 0, count: padding))
        return equal(Array(classic.finalize()), attribute.value)
    }

    /// RFC 8489 14.6: HMAC-SHA256, possibly truncated to 16..32 bytes.
    static func matchesSHA256(_ view: StunMessageView, _ attribute: StunRawAttribute, key: StunKey) -> Bool {
        let count = attribute.value.count
        guard MessageIntegrityCode.sha256ValueLengths.contains(count) else { return false }
        return equal(MessageIntegrityCode.sha256(view.bytes, upTo: attribute.offset, valueLength: count, key: key), attribute.value)
    }

    static func equal(_ mac: [UInt8], _ value: UnsafeRawBufferPointer) -> Bool {
        mac.count == value.count && zip(mac, value).allSatisfy { $0 == $1 }
    }
}
