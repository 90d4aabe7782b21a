import Crypto
import Foundation

/// Passwords the user gave (`--credentials FILE`) or that were learnt from
/// SDP, held only as derived keys. Lines of the file:
///
///     # comment
///     user:realm:password     long-term (TURN): keys MD5 and SHA-256 of user:realm:password
///     ufrag:password          short-term (ICE ice-ufrag / ice-pwd, or plain STUN short-term)
///
/// A literal `:` or `\` inside a field is written `\:` or `\\` (TURN REST
/// API usernames such as `1700000000\:alice`). A reference type, so the SIP
/// stage can add ICE passwords while the dissector already holds the store;
/// not shared between threads: a worker gets its own store built from
/// `contents`, a value.
public final class CredentialStore {
    struct LongTermCredential {
        var user: String
        var realm: String
        var md5Key: StunKey
        var sha256Key: StunKey
        /// RFC 8489 USERHASH: SHA-256(user ":" realm).
        var userhash: [UInt8]
    }

    /// The derived keys a store holds, as a value that can cross threads.
    public struct Contents: Sendable {
        fileprivate var longTerm: [LongTermCredential] = []
        fileprivate var longTermByUser: [String: [Int]] = [:]
        fileprivate var shortTerm: [String: StunKey] = [:]
    }

    /// What the store holds now; `CredentialStore(contents)` is an independent copy.
    public private(set) var contents = Contents()

    var longTerm: [LongTermCredential] { contents.longTerm }
    private var longTermByUser: [String: [Int]] { contents.longTermByUser }
    private var shortTerm: [String: StunKey] { contents.shortTerm }

    public init() {}

    /// A store of its own holding `contents` (another thread's copy of a store).
    public init(_ contents: Contents) {
        self.contents = contents
    }

    public var longTermCount: Int { longTerm.count }
    public var shortTermCount: Int { shortTerm.count }
    public var isEmpty: Bool { longTerm.isEmpty && shortTerm.isEmpty }

    public func addLongTerm(user: String, realm: String, password: String) {
        let material = Array("\(user):\(realm):\(password)".utf8)
        let md5 = Array(Insecure.MD5.hash(data: material))
        let sha256 = Array(SHA256.hash(data: material))
        let userhash = Array(SHA256.hash(data: Array("\(user):\(realm)".utf8)))
        contents.longTermByUser[user, default: []].append(longTerm.count)
        contents.longTerm.append(LongTermCredential(user: user, realm: realm, md5Key: StunKey(md5),
                                                    sha256Key: StunKey(sha256), userhash: userhash))
    }

    /// `username` is an ICE ufrag (or a whole short-term STUN username).
    public func addShortTerm(username: String, password: String) {
        contents.shortTerm[username] = StunKey(Array(password.utf8))
    }

    /// Whether a short-term password is known for this ufrag / username
    /// (the SIP stage does not replace passwords the user gave).
    public func hasShortTerm(username: String) -> Bool {
        shortTerm[username] != nil
    }

    public enum FileError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        /// The line's content is not echoed: it may hold a password.
        case badLine(number: Int, reason: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): return "cannot read credentials file \(path): \(reason)"
            case let .badLine(number, reason): return "credentials line \(number): \(reason)"
            }
        }
    }

    public convenience init(contentsOfFile path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FileError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        try self.init(parsing: text)
    }

    public convenience init(parsing text: String) throws {
        self.init()
        var number = 0
        // "\r\n" is one Character in Swift: split on both so CRLF files work.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = try CredentialStore.splitFields(trimmed, line: number)
            switch fields.count {
            case 2:
                guard !fields[0].isEmpty else { throw FileError.badLine(number: number, reason: "empty username") }
                addShortTerm(username: fields[0], password: fields[1])
            case 3:
                guard !fields[0].isEmpty else { throw FileError.badLine(number: number, reason: "empty username") }
                addLongTerm(user: fields[0], realm: fields[1], password: fields[2])
            default:
                throw FileError.badLine(number: number,
                                        reason: "expected user:realm:password or ufrag:password, found \(fields.count) fields")
            }
        }
    }

    /// Splits on unescaped `:`; `\:` and `\\` stand for themselves.
    static func splitFields(_ line: Substring, line number: Int) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var escaping = false
        for character in line {
            if escaping {
                guard character == ":" || character == "\\" else {
                    throw FileError.badLine(number: number, reason: "a backslash may only escape ':' or '\\'")
                }
                current.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == ":" {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !escaping else { throw FileError.badLine(number: number, reason: "line ends in a backslash") }
        fields.append(current)
        return fields
    }

    /// Keys that may protect `message`, from its USERNAME / USERHASH and REALM.
    func candidateKeys(for message: StunMessage) -> [IntegrityKey] {
        var keys: [IntegrityKey] = []
        let realm = message.realm
        let prefersSHA256 = message.attributes.contains { a in
            if a.type == .passwordAlgorithm, case let .passwordAlgorithms(list) = a.value { return list.first == 2 }
            return false
        }
        func addLongTerm(_ credential: LongTermCredential) {
            let md5 = IntegrityKey(key: credential.md5Key, origin: .longTermMD5)
            let sha = IntegrityKey(key: credential.sha256Key, origin: .longTermSHA256)
            keys.append(contentsOf: prefersSHA256 ? [sha, md5] : [md5, sha])
        }
        if let username = message.username {
            for index in longTermByUser[username] ?? [] where realm == nil || longTerm[index].realm == realm {
                addLongTerm(longTerm[index])
            }
            if let key = shortTerm[username] {
                keys.append(IntegrityKey(key: key, origin: .shortTerm))
            }
            // ICE: USERNAME is "receiver-ufrag:sender-ufrag" and the key is the receiver's password.
            if let colon = username.firstIndex(of: ":"), let key = shortTerm[String(username[..<colon])] {
                keys.append(IntegrityKey(key: key, origin: .shortTerm))
            }
        }
        if let hashAttribute = message.first(.userhash), case let .bytes(userhash) = hashAttribute.value {
            for credential in longTerm where credential.userhash.elementsEqual(userhash) && (realm == nil || credential.realm == realm) {
                addLongTerm(credential)
            }
        }
        return keys
    }
}
