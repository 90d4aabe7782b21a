/// Cuts one direction of a SIP-over-TCP connection into messages
/// (RFC 3261 section 18.3: the header block ends at an empty line, the body
/// is exactly Content-Length bytes). Keeps at most one incomplete message,
/// bounded by `SipLimits.maximumHeaderBlock` + `SipLimits.maximumMessage`.
/// After a gap or garbage it drops bytes until the next line that starts a
/// SIP message.
public final class SipStreamFramer {
    private var buffer: [UInt8] = []
    /// Body bytes still to drop after an oversized message.
    private var discard = 0
    /// Bytes dropped (garbage, oversized bodies, gaps), for statistics.
    public private(set) var skippedBytes = 0
    public private(set) var messages = 0
    private var synced: Bool

    /// `synced`: the stream starts at a message boundary (the SYN was seen).
    public init(synced: Bool = true) {
        self.synced = synced
    }

    public var bufferedCount: Int { buffer.count }

    /// Bytes were lost: forget the partial message and look for the next start line.
    public func gap() {
        skippedBytes &+= buffer.count
        buffer.removeAll(keepingCapacity: false)
        discard = 0
        synced = false
    }

    public func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (SipMessage) -> Void) {
        var input = bytes
        if discard > 0 {
            let drop = min(discard, input.count)
            discard -= drop
            skippedBytes &+= drop
            input = UnsafeRawBufferPointer(rebasing: input[drop...])
        }
        guard !input.isEmpty else { return }
        buffer.append(contentsOf: input)
        drain(emit)
    }

    private func drain(_ emit: (SipMessage) -> Void) {
        while !buffer.isEmpty {
            // Keepalive CRLFs between messages.
            var lead = 0
            while lead < buffer.count, buffer[lead] == 0x0D || buffer[lead] == 0x0A { lead += 1 }
            if lead > 0 { buffer.removeFirst(lead) }
            if buffer.isEmpty { return }
            if !synced {
                guard resync() else { return }
            }
            guard let headerEnd = SipStreamFramer.headerEnd(buffer) else {
                if buffer.count > SipLimits.maximumHeaderBlock {
                    // No end of headers within the bound: not a message we can read.
                    skippedBytes &+= buffer.count
                    buffer.removeAll(keepingCapacity: false)
                    synced = false
                }
                return
            }
            let contentLength = SipStreamFramer.contentLength(buffer, headerEnd: headerEnd)
            guard let startLine = SipParser.nextLine(buffer, from: 0),
                  SipParser.parseStartLine(Array(buffer[startLine.start..<startLine.end])) != nil else {
                // Lost sync: drop this line and look again.
                synced = false
                continue
            }
            if contentLength > SipLimits.maximumMessage {
                skippedBytes &+= min(buffer.count, headerEnd)
                let bodyHere = buffer.count - headerEnd
                if bodyHere >= contentLength {
                    buffer.removeFirst(headerEnd + contentLength)
                } else {
                    discard = contentLength - bodyHere
                    skippedBytes &+= bodyHere
                    buffer.removeAll(keepingCapacity: false)
                }
                continue
            }
            let total = headerEnd + contentLength
            guard buffer.count >= total else { return }
            if let message = SipParser.parse(Array(buffer[0..<total]), stream: true) {
                messages &+= 1
                emit(message)
            } else {
                skippedBytes &+= total
            }
            buffer.removeFirst(total)
        }
    }

    /// Drops bytes up to the next line that is a SIP start line; false when none is buffered yet.
    private func resync() -> Bool {
        var lineStart = 0
        while let line = SipParser.nextLine(buffer, from: lineStart) {
            if line.end > line.start, SipParser.parseStartLine(Array(buffer[line.start..<line.end])) != nil {
                skippedBytes &+= lineStart
                buffer.removeFirst(lineStart)
                synced = true
                return true
            }
            lineStart = line.next
        }
        // Keep the incomplete last line; drop what came before it.
        skippedBytes &+= lineStart
        buffer.removeFirst(lineStart)
        if buffer.count > SipLimits.maximumHeaderBlock {
            skippedBytes &+= buffer.count
            buffer.removeAll(keepingCapacity: false)
        }
        return false
    }

    /// Offset just past the blank line that ends the header block.
    static func headerEnd(_ data: [UInt8]) -> Int? {
        var from = 0
        while let line = SipParser.nextLine(data, from: from) {
            if line.start == line.end, from > 0 {
                return line.next <= SipLimits.maximumHeaderBlock ? line.next : nil
            }
            from = line.next
            if from > SipLimits.maximumHeaderBlock { return nil }
        }
        return nil
    }

    /// Content-Length (or `l`) from the header block; 0 when absent or unreadable.
    static func contentLength(_ data: [UInt8], headerEnd: Int) -> Int {
        var from = 0
        while let line = SipParser.nextLine(data, from: from), line.next <= headerEnd {
            from = line.next
            guard let colon = SipParser.firstIndex(of: 0x3A, in: data, from: line.start, to: line.end) else { continue }
            let name = SipParser.canonicalName(SipParser.text(data, line.start, colon).trimmingSpaces)
            if name == "content-length" {
                let digits = SipParser.text(data, colon + 1, line.end).trimmingSpaces
                guard digits.count <= 9, let n = Int(digits), n >= 0 else { return 0 }
                return n
            }
        }
        return 0
    }
}
