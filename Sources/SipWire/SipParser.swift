/// Reads SIP messages (RFC 3261 section 7) from bytes. Lenient where real
/// stacks are (bare LF line ends, compact header names, header folding),
/// strict about bounds: every index is checked, sizes are capped.
public enum SipParser {
    /// Parses one message from a UDP payload (`stream == false`: without
    /// Content-Length the body runs to the end of the datagram) or one framed
    /// TCP message (`stream == true`: without Content-Length there is no body).
    public static func parse(_ bytes: UnsafeRawBufferPointer, stream: Bool = false) -> SipMessage? {
        let count = min(bytes.count, SipLimits.maximumMessage)
        guard count > 0 else { return nil }
        return parse(Array(UnsafeRawBufferPointer(rebasing: bytes[0..<count])), stream: stream)
    }

    public static func parse(_ input: [UInt8], stream: Bool = false) -> SipMessage? {
        let data = input.count > SipLimits.maximumMessage ? Array(input[0..<SipLimits.maximumMessage]) : input
        var index = 0
        // Leading CRLFs are keepalives (RFC 5626 section 3.5.1).
        while index < data.count, data[index] == 0x0D || data[index] == 0x0A { index += 1 }
        guard let first = nextLine(data, from: index) else { return nil }
        guard let startLine = parseStartLine(Array(data[first.start..<first.end])) else { return nil }
        index = first.next

        var headers: [SipHeader] = []
        var dropped = 0
        var sawBlankLine = false
        while let line = nextLine(data, from: index) {
            index = line.next
            if line.start == line.end {
                sawBlankLine = true
                break
            }
            let firstByte = data[line.start]
            if firstByte == 0x20 || firstByte == 0x09 {
                // Folded continuation of the previous header.
                if !headers.isEmpty {
                    let more = text(data, line.start, line.end).trimmingSpaces
                    var value = headers[headers.count - 1].value
                    if value.utf8.count + more.utf8.count < SipLimits.maximumFieldLength {
                        value += " " + more
                        headers[headers.count - 1].value = value
                    }
                }
                continue
            }
            guard let colon = firstIndex(of: 0x3A, in: data, from: line.start, to: line.end) else { continue }
            let name = canonicalName(text(data, line.start, colon).trimmingSpaces)
            guard !name.isEmpty else { continue }
            let value = text(data, colon + 1, line.end).trimmingSpaces
            if headers.count < SipLimits.maximumHeaders {
                headers.append(SipHeader(name: name, value: value))
            } else {
                dropped += 1
            }
        }
        if !sawBlankLine {
            // No end of headers: whatever followed the last full line is not a body.
            index = data.count
        }

        var message = SipMessage(startLine: startLine, headers: headers, droppedHeaders: dropped)
        let available = max(0, data.count - index)
        let declared = message.contentLength
        var bodyLength: Int
        if let declared, declared >= 0 {
            bodyLength = declared
        } else {
            bodyLength = stream ? 0 : available
        }
        if bodyLength > available {
            message.bodyTruncated = true
            bodyLength = available
        }
        if bodyLength > 0, index < data.count {
            message.body = Array(data[index..<(index + bodyLength)])
        }
        message.wireLength = index + bodyLength
        return message
    }

    // MARK: Start line

    /// `METHOD uri SIP/2.0` or `SIP/2.0 123 reason`.
    public static func parseStartLine(_ line: [UInt8]) -> SipMessage.StartLine? {
        guard line.count >= 8, line.count <= 8_192 else { return nil }
        let version: [UInt8] = Array("SIP/2.0".utf8)
        if hasPrefixIgnoringCase(line, version), line.count >= 11, line[7] == 0x20 {
            let digits = line[8..<11]
            guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            let code = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard code >= 100, code <= 699 else { return nil }
            if line.count > 11 {
                guard line[11] == 0x20 || line[11] == 0x09 else { return nil }
                return .status(code: code, reason: text(line, 12, line.count).trimmingSpaces)
            }
            return .status(code: code, reason: "")
        }
        // Request line: exactly three space-separated parts.
        guard let firstSpace = firstIndex(of: 0x20, in: line, from: 0, to: line.count), firstSpace > 0, firstSpace <= 32,
              let lastSpace = lastIndex(of: 0x20, in: line), lastSpace > firstSpace + 1 else { return nil }
        let versionPart = Array(line[(lastSpace + 1)...])
        guard versionPart.count == version.count, hasPrefixIgnoringCase(versionPart, version) else { return nil }
        let method = line[0..<firstSpace]
        guard let head = method.first, head >= 0x41, head <= 0x5A,
              method.allSatisfy(isTokenByte) else { return nil }
        let uriBytes = line[(firstSpace + 1)..<lastSpace]
        guard !uriBytes.contains(0x20), !uriBytes.contains(0x09), uriBytes.contains(0x3A) else { return nil }
        return .request(method: String(decoding: method, as: UTF8.self),
                        uri: text(line, firstSpace + 1, lastSpace))
    }

    // MARK: Header names

    static let compactForms: [String: String] = [
        "i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length", "c": "content-type",
        "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via", "o": "event", "u": "allow-events",
        "r": "refer-to", "b": "referred-by", "x": "session-expires", "y": "identity", "a": "accept-contact",
        "j": "reject-contact", "d": "request-disposition",
    ]

    /// Lowercase long form of a header name.
    public static func canonicalName(_ raw: String) -> String {
        let lower = raw.lowercased()
        return compactForms[lower] ?? lower
    }

    // MARK: Byte helpers (all bounds-checked)

    /// The next line from `from`: content `start..<end` (without CR LF), and where the following line starts.
    static func nextLine(_ data: [UInt8], from: Int) -> (start: Int, end: Int, next: Int)? {
        guard from >= 0, from < data.count else { return nil }
        var i = from
        while i < data.count, data[i] != 0x0A { i += 1 }
        guard i < data.count else { return nil }
        var end = i
        if end > from, data[end - 1] == 0x0D { end -= 1 }
        return (from, end, i + 1)
    }

    static func text(_ data: [UInt8], _ start: Int, _ end: Int) -> String {
        let s = max(0, min(start, data.count))
        let e = max(s, min(end, data.count, s + SipLimits.maximumFieldLength))
        return String(decoding: data[s..<e], as: UTF8.self)
    }

    static func firstIndex(of byte: UInt8, in data: [UInt8], from: Int, to: Int) -> Int? {
        var i = max(0, from)
        let end = min(to, data.count)
        while i < end {
            if data[i] == byte { return i }
            i += 1
        }
        return nil
    }

    static func lastIndex(of byte: UInt8, in data: [UInt8]) -> Int? {
        var i = data.count - 1
        while i >= 0 {
            if data[i] == byte { return i }
            i -= 1
        }
        return nil
    }

    static func hasPrefixIgnoringCase(_ data: [UInt8], _ prefix: [UInt8]) -> Bool {
        guard data.count >= prefix.count else { return false }
        for i in 0..<prefix.count where lower(data[i]) != lower(prefix[i]) { return false }
        return true
    }

    static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b + 0x20 : b }

    /// RFC 3261 `token` characters.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"), UInt8(ascii: "*"),
             UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"), UInt8(ascii: "'"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}
