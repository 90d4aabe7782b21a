import Crypto

/// HMAC key material for MESSAGE-INTEGRITY. It never prints: description,
/// debug description and reflection all say `<redacted>`, so a key cannot
/// leak through logging, string interpolation or `dump`.
public struct StunKey: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// A key candidate for one message, with how it was derived.
struct IntegrityKey: Hashable {
    enum Origin: Hashable {
        /// RFC 8489 9.2.2: MD5(username ":" realm ":" password).
        case longTermMD5
        /// RFC 8489 9.2.2 with PASSWORD-ALGORITHM SHA-256.
        case longTermSHA256
        /// RFC 8489 9.1 / RFC 8445: the password itself (ICE's ice-pwd).
        case shortTerm
    }

    var key: StunKey
    var origin: Origin
}

extension StunKey {
    /// RFC 8489 9.1 short-term key: the password's bytes.
    public static func shortTerm(password: String) -> StunKey { StunKey(Array(password.utf8)) }

    /// RFC 8489 9.2.2 long-term key, MD5 (default) or SHA-256 of user:realm:password.
    public static func longTerm(user: String, realm: String, password: String, sha256: Bool = false) -> StunKey {
        let material = Array("\(user):\(realm):\(password)".utf8)
        return StunKey(sha256 ? Array(SHA256.hash(data: material)) : Array(Insecure.MD5.hash(data: material)))
    }
}
