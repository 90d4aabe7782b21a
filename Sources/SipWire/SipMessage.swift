/// One SIP header as it appeared, with its name in canonical lowercase long
/// form (`i` becomes `call-id`, `f` `from`, ...).
public struct SipHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A parsed SIP request or response.
public struct SipMessage: Sendable {
    public enum StartLine: Sendable, Equatable {
        case request(method: String, uri: String)
        case status(code: Int, reason: String)
    }

    public var startLine: StartLine
    /// Headers in wire order (at most `SipLimits.maximumHeaders`).
    public var headers: [SipHeader]
    /// Headers beyond the bound, counted.
    public var droppedHeaders: Int
    /// The body (bounded by Content-Length, or the rest of the datagram).
    public var body: [UInt8]
    /// Content-Length said more bytes than the datagram / stream held.
    public var bodyTruncated: Bool
    /// Bytes the message occupied (start line to end of body).
    public var wireLength: Int

    public init(startLine: StartLine, headers: [SipHeader], droppedHeaders: Int = 0, body: [UInt8] = [],
                bodyTruncated: Bool = false, wireLength: Int = 0) {
        self.startLine = startLine
        self.headers = headers
        self.droppedHeaders = droppedHeaders
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.wireLength = wireLength
    }

    public var isRequest: Bool { if case .request = startLine { return true } else { return false } }

    /// The request method, or nil for a response.
    public var method: String? { if case let .request(m, _) = startLine { return m } else { return nil } }
    public var requestURI: String? { if case let .request(_, u) = startLine { return u } else { return nil } }
    public var statusCode: Int? { if case let .status(c, _) = startLine { return c } else { return nil } }
    public var reasonPhrase: String? { if case let .status(_, r) = startLine { return r } else { return nil } }

    /// The first header with this name (any case, long or compact form).
    public func header(_ name: String) -> String? {
        let wanted = SipParser.canonicalName(name)
        return headers.first { $0.name == wanted }?.value
    }

    public func headers(_ name: String) -> [String] {
        let wanted = SipParser.canonicalName(name)
        return headers.filter { $0.name == wanted }.map(\.value)
    }

    public var callID: String? { header("call-id") }
    public var from: String? { header("from") }
    public var to: String? { header("to") }
    public var contact: String? { header("contact") }
    public var via: [String] { headers("via") }
    public var contentType: String? { header("content-type") }
    public var contentLength: Int? { header("content-length").flatMap { Int($0.trimmingSpaces) } }

    /// CSeq as number and method (`1 INVITE`).
    public var cseq: (number: UInt32, method: String)? {
        guard let value = header("cseq") else { return nil }
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 2, let n = UInt32(parts[0]) else { return nil }
        return (n, String(parts[1]).uppercased())
    }

    /// The `tag` parameter of From / To (identifies the dialog's ends).
    public static func tag(of nameAddr: String?) -> String? {
        guard let value = nameAddr else { return nil }
        // Parameters after the closing '>' (or after the URI when there is none).
        let tail: Substring
        if let close = value.lastIndex(of: ">") { tail = value[close...] } else { tail = Substring(value) }
        for param in tail.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingSpaces.lowercased() == "tag" { return kv[1].trimmingSpaces }
        }
        return nil
    }

    /// Whether the body is SDP: `Content-Type: application/sdp`, or no
    /// content type and a body that starts with `v=`.
    public var hasSdpBody: Bool {
        guard !body.isEmpty else { return false }
        if let type = contentType?.lowercased() {
            if type.hasPrefix("application/sdp") { return true }
            if type.hasPrefix("multipart/") { return body.containsSdpPart }
            return false
        }
        return body.count >= 3 && body[0] == UInt8(ascii: "v") && body[1] == UInt8(ascii: "=")
    }

    /// The SDP body, when there is one (the first application/sdp part of a multipart body).
    public var sdp: SdpSession? {
        guard hasSdpBody else { return nil }
        if let type = contentType?.lowercased(), type.hasPrefix("multipart/") {
            guard let start = body.firstSdpStart else { return nil }
            return SdpParser.parse(Array(body[start...]))
        }
        return SdpParser.parse(body)
    }

    /// `INVITE`, `180 Ringing`: a short label for ladders.
    public var summaryLine: String {
        switch startLine {
        case let .request(method, uri): return "\(method) \(uri)"
        case let .status(code, reason): return reason.isEmpty ? "\(code)" : "\(code) \(reason)"
        }
    }
}

extension Array where Element == UInt8 {
    /// A line `v=0` somewhere in the body (multipart SDP part).
    var firstSdpStart: Int? {
        var i = 0
        while i + 2 < count {
            if self[i] == UInt8(ascii: "v"), self[i + 1] == UInt8(ascii: "="), i == 0 || self[i - 1] == 0x0A {
                return i
            }
            i += 1
        }
        return nil
    }

    var containsSdpPart: Bool { firstSdpStart != nil }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var start = startIndex
        var end = endIndex
        while start < end, self[start] == " " || self[start] == "\t" { start = index(after: start) }
        while end > start {
            let before = index(before: end)
            guard self[before] == " " || self[before] == "\t" || self[before] == "\r" else { break }
            end = before
        }
        return String(self[start..<end])
    }
}
