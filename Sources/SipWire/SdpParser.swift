import NetworkVocabulary

/// One `a=candidate` line (RFC 8839 section 5.1):
/// `foundation component transport priority address port typ type [raddr a rport p] [tcptype t] *(name value)`.
public struct SdpCandidate: Sendable, Equatable {
    public var foundation: String
    public var component: Int
    /// Lowercase: `udp`, `tcp`.
    public var transport: String
    public var priority: UInt32
    /// As written (an IP literal, or an FQDN / mDNS `.local` name).
    public var address: String
    public var port: UInt16
    /// `host`, `srflx`, `prflx`, `relay` (or whatever the line said).
    public var type: String
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    /// ICE-TCP (RFC 6544): `active`, `passive`, `so`.
    public var tcpType: String?

    public init(foundation: String, component: Int, transport: String, priority: UInt32, address: String, port: UInt16,
                type: String, relatedAddress: String? = nil, relatedPort: UInt16? = nil, tcpType: String? = nil) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.tcpType = tcpType
    }

    /// The address as an endpoint, when it is an IP literal.
    public var endpoint: Endpoint? {
        IPAddress(address).map { Endpoint($0, port) }
    }

    public var relatedEndpoint: Endpoint? {
        guard let a = relatedAddress, let p = relatedPort, let ip = IPAddress(a) else { return nil }
        return Endpoint(ip, p)
    }

    /// The line again, without the `a=candidate:` prefix (contains no secret).
    public var attributeValue: String {
        var s = "\(foundation) \(component) \(transport) \(priority) \(address) \(port) typ \(type)"
        if let a = relatedAddress, let p = relatedPort { s += " raddr \(a) rport \(p)" }
        if let t = tcpType { s += " tcptype \(t)" }
        return s
    }
}

/// `c=IN IP4 203.0.113.10`.
public struct SdpConnection: Sendable, Equatable {
    public var networkType: String
    public var addressType: String
    public var address: String
}

/// One `m=` section with its attributes.
public struct SdpMedia: Sendable {
    public var type: String
    public var port: UInt16
    public var proto: String
    public var formats: [String]
    public var connection: SdpConnection?
    public var iceUfrag: String?
    public var icePwd: String?
    public var iceOptions: String?
    public var setup: String?
    public var mid: String?
    public var direction: String?
    public var rtcpMux = false
    public var endOfCandidates = false
    public var candidates: [SdpCandidate] = []
    public var droppedCandidates = 0
    public var malformedCandidates = 0

    /// `audio 49369 RTP/AVP 0`.
    public var line: String {
        ([type, String(port), proto] + formats).joined(separator: " ")
    }
}

/// A parsed SDP session description.
public struct SdpSession: Sendable {
    public var version: Int?
    /// `o=` fields: username, session id, version, network type, address type, address.
    public var origin: [String] = []
    public var sessionName: String?
    public var connection: SdpConnection?
    public var iceUfrag: String?
    public var icePwd: String?
    public var iceOptions: String?
    public var iceLite = false
    public var setup: String?
    public var candidates: [SdpCandidate] = []
    public var media: [SdpMedia] = []
    public var droppedMedia = 0
    public var malformedLines = 0

    public init() {}

    /// The origin's unicast address (`o=` sixth field).
    public var originAddress: String? { origin.count >= 6 ? origin[5] : nil }

    /// The ufrag that applies to media section `i` (media-level overrides session-level).
    public func ufrag(media i: Int) -> String? {
        (i >= 0 && i < media.count ? media[i].iceUfrag : nil) ?? iceUfrag
    }

    public func password(media i: Int) -> String? {
        (i >= 0 && i < media.count ? media[i].icePwd : nil) ?? icePwd
    }

    /// Every distinct (ufrag, password) this description gives, session and media level.
    public var iceCredentials: [(ufrag: String, password: String)] {
        var out: [(String, String)] = []
        var seen = Set<String>()
        func add(_ u: String?, _ p: String?) {
            guard let u, let p, !u.isEmpty, !p.isEmpty, !seen.contains(u + "\u{0}" + p) else { return }
            seen.insert(u + "\u{0}" + p)
            out.append((u, p))
        }
        add(iceUfrag, icePwd)
        for i in media.indices { add(ufrag(media: i), password(media: i)) }
        return out
    }

    /// Every ufrag this description gives.
    public var iceUfrags: [String] {
        var out: [String] = []
        if let u = iceUfrag { out.append(u) }
        for m in media { if let u = m.iceUfrag, !out.contains(u) { out.append(u) } }
        return out
    }

    /// Session-level candidates followed by every media section's.
    public var allCandidates: [SdpCandidate] {
        candidates + media.flatMap(\.candidates)
    }

    public var hasIcePassword: Bool {
        icePwd != nil || media.contains { $0.icePwd != nil }
    }

    public var effectiveIceOptions: String? {
        iceOptions ?? media.lazy.compactMap(\.iceOptions).first
    }

    public var effectiveSetup: String? {
        setup ?? media.lazy.compactMap(\.setup).first
    }
}

/// Reads SDP text (RFC 8866): one `type=value` per line, CRLF or LF.
/// Unknown lines are skipped; malformed ones are counted.
public enum SdpParser {
    public static func parse(_ bytes: [UInt8]) -> SdpSession? {
        let capped = bytes.count > SipLimits.maximumMessage ? Array(bytes[0..<SipLimits.maximumMessage]) : bytes
        return parse(String(decoding: capped, as: UTF8.self))
    }

    public static func parse(_ text: String) -> SdpSession? {
        var session = SdpSession()
        var sawVersion = false
        var lines = 0
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lines += 1
            if lines > SipLimits.maximumSdpLines { break }
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            guard line.count >= 2, line.dropFirst().first == "=" else {
                if !line.trimmingSpaces.isEmpty { session.malformedLines += 1 }
                continue
            }
            let kind = line.first!
            let value = line.dropFirst(2)
            if value.utf8.count > SipLimits.maximumFieldLength {
                session.malformedLines += 1
                continue
            }
            let inMedia = !session.media.isEmpty && session.droppedMedia == 0
            switch kind {
            case "v":
                sawVersion = true
                session.version = Int(value.trimmingSpaces)
            case "o":
                session.origin = value.split(separator: " ").prefix(6).map(String.init)
            case "s":
                session.sessionName = String(value)
            case "c":
                guard let c = connection(value) else { session.malformedLines += 1; continue }
                if inMedia { session.media[session.media.count - 1].connection = c } else if session.media.isEmpty { session.connection = c }
            case "m":
                guard let m = media(value) else { session.malformedLines += 1; continue }
                if session.media.count < SipLimits.maximumSdpMedia {
                    session.media.append(m)
                } else {
                    session.droppedMedia += 1
                }
            case "a":
                if session.droppedMedia > 0 { continue }
                attribute(value, into: &session)
            default:
                break
            }
        }
        guard sawVersion || !session.media.isEmpty || session.iceUfrag != nil else { return nil }
        return session
    }

    /// Every description in a text that may hold several (an offer and an
    /// answer one after the other): each starts at a `v=` line.
    public static func parseDocuments(_ text: String) -> [SdpSession] {
        var documents: [String] = []
        var current = ""
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).prefix(SipLimits.maximumSdpLines * 8) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.hasPrefix("v="), !current.isEmpty {
                documents.append(current)
                current = ""
            }
            current += line + "\n"
        }
        if !current.isEmpty { documents.append(current) }
        return documents.prefix(64).compactMap { parse($0) }.filter { $0.version != nil || !$0.media.isEmpty }
    }

    static func connection(_ value: Substring) -> SdpConnection? {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 3 else { return nil }
        // Multicast TTL / count suffixes ("/127") are not part of the address.
        let address = parts[2].split(separator: "/").first.map(String.init) ?? String(parts[2])
        return SdpConnection(networkType: String(parts[0]), addressType: String(parts[1]), address: address)
    }

    static func media(_ value: Substring) -> SdpMedia? {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 3 else { return nil }
        let portText = parts[1].split(separator: "/").first ?? parts[1]
        guard let port = UInt16(portText) else { return nil }
        return SdpMedia(type: String(parts[0]), port: port, proto: String(parts[2]),
                        formats: parts.dropFirst(3).prefix(64).map(String.init))
    }

    static func attribute(_ value: Substring, into session: inout SdpSession) {
        let name: Substring
        let rest: Substring
        if let colon = value.firstIndex(of: ":") {
            name = value[..<colon]
            rest = value[value.index(after: colon)...]
        } else {
            name = value
            rest = ""
        }
        let hasMedia = !session.media.isEmpty
        let last = session.media.count - 1
        switch name.lowercased() {
        case "ice-ufrag":
            let v = rest.trimmingSpaces
            if hasMedia { session.media[last].iceUfrag = v } else { session.iceUfrag = v }
        case "ice-pwd":
            let v = rest.trimmingSpaces
            if hasMedia { session.media[last].icePwd = v } else { session.icePwd = v }
        case "ice-options":
            let v = rest.trimmingSpaces
            if hasMedia { session.media[last].iceOptions = v } else { session.iceOptions = v }
        case "ice-lite":
            session.iceLite = true
        case "setup":
            let v = rest.trimmingSpaces
            if hasMedia { session.media[last].setup = v } else { session.setup = v }
        case "mid":
            if hasMedia { session.media[last].mid = rest.trimmingSpaces }
        case "rtcp-mux":
            if hasMedia { session.media[last].rtcpMux = true }
        case "sendrecv", "sendonly", "recvonly", "inactive":
            if hasMedia { session.media[last].direction = String(name) }
        case "end-of-candidates":
            if hasMedia { session.media[last].endOfCandidates = true }
        case "candidate":
            guard let c = candidate(rest) else {
                if hasMedia { session.media[last].malformedCandidates += 1 } else { session.malformedLines += 1 }
                return
            }
            if hasMedia {
                if session.media[last].candidates.count < SipLimits.maximumCandidates {
                    session.media[last].candidates.append(c)
                } else {
                    session.media[last].droppedCandidates += 1
                }
            } else if session.candidates.count < SipLimits.maximumCandidates {
                session.candidates.append(c)
            }
        default:
            break
        }
    }

    /// Parses the value of an `a=candidate:` attribute (the part after the colon).
    public static func candidate(_ value: Substring) -> SdpCandidate? {
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 8, parts.count <= 64 else { return nil }
        guard parts[0].count <= 32, let component = Int(parts[1]), component >= 1, component <= 256,
              let priority = UInt32(parts[3]), let port = UInt16(parts[5]),
              parts[6].lowercased() == "typ" else { return nil }
        let address = String(parts[4])
        guard !address.isEmpty, address.utf8.count <= 255 else { return nil }
        var c = SdpCandidate(foundation: String(parts[0]), component: component, transport: parts[2].lowercased(),
                             priority: priority, address: address, port: port, type: parts[7].lowercased())
        var i = 8
        while i + 1 < parts.count {
            let key = parts[i].lowercased()
            let v = parts[i + 1]
            switch key {
            case "raddr": c.relatedAddress = String(v.prefix(255))
            case "rport": c.relatedPort = UInt16(v)
            case "tcptype": c.tcpType = v.lowercased()
            default: break
            }
            i += 2
        }
        return c
    }
}
