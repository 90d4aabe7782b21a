import Foundation
import SipWire
import StunWire

/// `--sdp FILE` (repeatable): offer/answer SDP text from outside the capture
/// (browsers signal over TLS). Each file may hold one or more descriptions;
/// their ice-ufrag/ice-pwd become short-term credentials (never printed) and
/// their candidates count as signalled.
public struct SdpInput {
    public var descriptions: [(sdp: SdpSession, source: String)] = []

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case noSdp(path: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): return "cannot read SDP file \(path): \(reason)"
            case let .noSdp(path): return "SDP file \(path) holds no session description (no v= or m= line)"
            }
        }
    }

    public init(paths: [String]) throws {
        for path in paths {
            let text: String
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                guard data.count <= 1 << 20 else { throw LoadError.unreadable(path: path, reason: "larger than 1 MiB") }
                text = String(decoding: data, as: UTF8.self)
            } catch let e as LoadError {
                throw e
            } catch {
                throw LoadError.unreadable(path: path, reason: error.localizedDescription)
            }
            let docs = SdpParser.parseDocuments(text)
            guard !docs.isEmpty else { throw LoadError.noSdp(path: path) }
            let name = (path as NSString).lastPathComponent
            for (i, d) in docs.enumerated() {
                descriptions.append((d, docs.count > 1 ? "\(name)#\(i + 1)" : name))
            }
        }
    }

    /// Adds every ice-ufrag/ice-pwd as a short-term credential (`--credentials` entries win).
    public func addCredentials(to store: CredentialStore) {
        for d in descriptions {
            for (ufrag, password) in d.sdp.iceCredentials where !store.hasShortTerm(username: ufrag) {
                store.addShortTerm(username: ufrag, password: password)
            }
        }
    }
}
