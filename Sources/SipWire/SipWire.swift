/// SipWire: SIP messages (RFC 3261) and their SDP bodies (RFC 8866, with
/// the ICE attributes of RFC 8839), read from UDP payloads and TCP streams.
///
/// Everything here is bounds-checked and bounded in size: a hostile or
/// damaged packet yields `nil` or a partial value, never a trap. The
/// parsers copy at most `SipLimits.maximumMessage` bytes.
public enum SipLimits {
    /// The largest message considered (a UDP datagram's largest payload).
    public static let maximumMessage = 65_535
    /// The largest header block (start line + headers) kept while framing a TCP stream.
    public static let maximumHeaderBlock = 16_384
    /// Headers kept per message; the rest are counted, not stored.
    public static let maximumHeaders = 128
    /// Characters kept per header value or start-line field.
    public static let maximumFieldLength = 2_048
    /// SDP lines read per body.
    public static let maximumSdpLines = 4_096
    /// Media sections kept per SDP.
    public static let maximumSdpMedia = 64
    /// Candidates kept per media section (and at session level).
    public static let maximumCandidates = 256
}

/// Whether bytes plausibly start a SIP message.
public enum SipRecognizer {
    static let knownMethods: Set<String> = [
        "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
        "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
    ]

    /// True when the first line is a SIP request line (`METHOD uri SIP/2.0`)
    /// or status line (`SIP/2.0 123 reason`). Reads at most 1 KiB.
    public static func startsWithSipLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let limit = min(bytes.count, 1_024)
        var end = 0
        while end < limit, bytes[end] != 0x0A { end += 1 }
        guard end < limit else { return false }
        var lineEnd = end
        if lineEnd > 0, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        guard lineEnd >= 12 else { return false }
        let line = Array(UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd]))
        return SipParser.parseStartLine(line) != nil
    }
}
