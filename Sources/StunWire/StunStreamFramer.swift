import PacketDecoding

/// One unit the stream framer cut out of a TCP byte stream. Views are valid
/// only during the callback.
public enum StreamUnit {
    /// One whole STUN message (without any RFC 4571 length prefix).
    case stun(UnsafeRawBufferPointer)
    case channelData(ChannelDataView)
    /// An RFC 4571 frame that is not STUN (ICE-TCP media: RTP, DTLS).
    case framedOther(UnsafeRawBufferPointer)
    /// Bytes of a stream that is not framed STUN (TLS, RFC 6062 data connections, anything else).
    case unframed(UnsafeRawBufferPointer)
    /// Bytes dropped while looking for a message boundary.
    case skipped(count: Int, reason: SkipReason)
}

public enum SkipReason: String, Sendable {
    /// The capture began after the connection did.
    case midStreamStart = "capture started mid-stream"
    /// Bytes were lost (a TCP gap) and framing had to be found again.
    case afterGap = "resynchronising after lost bytes"
    /// Bytes where a message header should have been were not one.
    case lostSync = "no STUN or ChannelData header where one was expected"
    /// A frame bigger than the buffer bound (only garbage can be).
    case oversized = "frame larger than the buffer bound"
    /// The stream ended inside a message.
    case truncated = "stream ended inside a message"
}

/// Cuts one direction of a TCP connection into STUN messages and
/// ChannelData frames (RFC 8489 7.2.2, RFC 8656 12.5), or RFC 4571 frames
/// (ICE-TCP, RFC 6544). Several messages per segment and one message across
/// segments are both handled; only the tail of an incomplete message is
/// ever copied, into a buffer bounded by the largest possible frame. After a
/// gap (or when the capture starts mid-connection) it scans for the next
/// magic cookie to find a message boundary again.
public final class StunStreamFramer {
    public enum Framing: Sendable {
        /// Not decided yet (waiting for the first bytes, or scanning for a header).
        case undetermined
        /// STUN messages and ChannelData, back to back (TURN over TCP).
        case stun
        /// RFC 4571: a 2-byte length before each frame.
        case rfc4571
        /// Not STUN: everything is passed through as `.unframed`.
        case passthrough
    }

    public private(set) var framing: Framing = .undetermined
    /// Whether 0x4000-0x7FFF / 0xFF10 starts a ChannelData frame (only on 5-tuples known to be TURN).
    public var channelDataAllowed: Bool
    /// The largest frame kept across segments: 65,535 bytes of STUN attributes plus headers.
    public static let maximumFrame = 2 + StunHeader.length + 65_535 + 3
    /// How far to scan for a first header in a stream joined mid-way before calling it not-STUN.
    public let maximumUnsyncedScan: Int

    private var buffer: [UInt8] = []
    private var scanning: Bool
    private var scanReason: SkipReason
    private var scannedWithoutSync = 0
    private var pendingSkipped = 0
    /// Framing known before a gap, preferred when resynchronising.
    private var preferredFraming: Framing = .undetermined

    /// `connectionStart`: the stream's first byte is the connection's first
    /// byte (the SYN was seen), so its header decides the framing at once.
    public init(channelDataAllowed: Bool, connectionStart: Bool, maximumUnsyncedScan: Int = 65_536) {
        self.channelDataAllowed = channelDataAllowed
        self.scanning = !connectionStart
        self.scanReason = .midStreamStart
        self.maximumUnsyncedScan = maximumUnsyncedScan
    }

    public var bufferedCount: Int { buffer.count }

    /// Everything after this point is opaque (RFC 6062 after ConnectionBind).
    public func switchToPassthrough() {
        framing = .passthrough
        scanning = false
    }

    /// Bytes were lost: drop any partial message and find the next header.
    public func gap() {
        guard framing != .passthrough else { return }
        pendingSkipped &+= buffer.count
        buffer.removeAll(keepingCapacity: false)
        if framing != .undetermined { preferredFraming = framing }
        framing = .undetermined
        scanning = true
        scanReason = .afterGap
        scannedWithoutSync = 0
    }

    /// End of stream: whatever is buffered is an incomplete message.
    public func finish(_ emit: (StreamUnit) -> Void) {
        flushSkipped(emit)
        if !buffer.isEmpty {
            if framing == .undetermined && !scanning {
                buffer.withUnsafeBytes { emit(.unframed($0)) }
            } else {
                emit(.skipped(count: buffer.count, reason: .truncated))
            }
            buffer.removeAll(keepingCapacity: false)
        }
    }

    public func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (StreamUnit) -> Void) {
        var input = bytes
        while !input.isEmpty {
            if buffer.isEmpty {
                let consumed = frames(in: input, emit)
                stash(UnsafeRawBufferPointer(rebasing: input[consumed...]), emit)
                return
            }
            // Top up the buffer with just what the pending frame needs, then cut it.
            let take = min(bytesWanted(), input.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[0..<take]))
            input = UnsafeRawBufferPointer(rebasing: input[take...])
            let consumed = buffer.withUnsafeBytes { frames(in: $0, emit) }
            buffer.removeFirst(consumed)
            if buffer.count > StunStreamFramer.maximumFrame { dropOversized(emit) }
        }
    }

    private func stash(_ rest: UnsafeRawBufferPointer, _ emit: (StreamUnit) -> Void) {
        guard !rest.isEmpty else { return }
        buffer.append(contentsOf: rest)
        if buffer.count > StunStreamFramer.maximumFrame { dropOversized(emit) }
    }

    private func dropOversized(_ emit: (StreamUnit) -> Void) {
        emit(.skipped(count: buffer.count, reason: .oversized))
        buffer.removeAll(keepingCapacity: false)
        if framing != .undetermined { preferredFraming = framing }
        framing = .undetermined
        scanning = true
        scanReason = .lostSync
    }

    /// How many more bytes the buffered partial frame needs (at least 1).
    private func bytesWanted() -> Int {
        let have = buffer.count
        if scanning || framing == .undetermined { return 4_096 }
        return buffer.withUnsafeBytes { b -> Int in
            switch framing {
            case .rfc4571:
                if have < 2 { return 2 &- have }
                return max(1, 2 &+ Int(b.loadBE16(0)) &- have)
            case .stun:
                if have < 4 { return 4 &- have }
                if let length = ChannelDataView.streamFrameLength(b), channelDataAllowed { return max(1, length &- have) }
                if have < StunHeader.length { return StunHeader.length &- have }
                return max(1, StunHeader.length &+ Int(b.loadBE16(2)) &- have)
            case .undetermined, .passthrough:
                return 4_096
            }
        }
    }

    private func flushSkipped(_ emit: (StreamUnit) -> Void) {
        if pendingSkipped > 0 {
            emit(.skipped(count: pendingSkipped, reason: scanReason))
            pendingSkipped = 0
        }
    }

    /// Cuts complete frames from `data`; returns how many bytes were consumed.
    private func frames(in data: UnsafeRawBufferPointer, _ emit: (StreamUnit) -> Void) -> Int {
        var p = 0
        while p < data.count {
            let rest = UnsafeRawBufferPointer(rebasing: data[p...])
            if scanning {
                if let (position, found) = StunStreamFramer.findSync(rest, prefer: preferredFraming) {
                    pendingSkipped &+= position
                    flushSkipped(emit)
                    p &+= position
                    framing = found
                    scanning = false
                    continue
                }
                // Keep the last bytes: a header may straddle the next segment.
                let keep = min(rest.count, 9)
                let dropped = rest.count &- keep
                pendingSkipped &+= dropped
                scannedWithoutSync &+= dropped
                p &+= dropped
                if scanReason == .midStreamStart && scannedWithoutSync >= maximumUnsyncedScan {
                    pendingSkipped = 0
                    framing = .passthrough
                    scanning = false
                    continue
                }
                return p
            }
            switch framing {
            case .passthrough:
                emit(.unframed(rest))
                return data.count
            case .undetermined:
                // Start of a connection: the first header decides.
                guard rest.count >= 10 else { return p }
                if let (position, found) = StunStreamFramer.findSync(UnsafeRawBufferPointer(rebasing: rest[0..<10]), prefer: .undetermined),
                   position == 0 {
                    framing = found
                } else {
                    framing = .passthrough
                }
            case .rfc4571:
                guard rest.count >= 2 else { return p }
                let total = 2 &+ Int(rest.loadBE16(0))
                guard rest.count >= total else { return p }
                let inner = UnsafeRawBufferPointer(rebasing: rest[2..<total])
                if inner.count >= StunHeader.length, inner.loadBE32(4) == StunHeader.magicCookie, inner[0] & 0xC0 == 0 {
                    emit(.stun(inner))
                } else {
                    emit(.framedOther(inner))
                }
                p &+= total
            case .stun:
                guard rest.count >= 4 else { return p }
                if rest[0] & 0xC0 == 0 {
                    guard rest.count >= StunHeader.length else { return p }
                    guard rest.loadBE32(4) == StunHeader.magicCookie else {
                        loseSync(emit)
                        continue
                    }
                    let total = StunHeader.length &+ Int(rest.loadBE16(2))
                    guard rest.count >= total else { return p }
                    emit(.stun(UnsafeRawBufferPointer(rebasing: rest[0..<total])))
                    p &+= total
                } else if channelDataAllowed, let total = ChannelDataView.streamFrameLength(rest) {
                    guard rest.count >= total, let frame = ChannelDataView.streamFrame(rest) else { return p }
                    emit(.channelData(frame))
                    p &+= total
                } else {
                    loseSync(emit)
                }
            }
        }
        return p
    }

    private func loseSync(_ emit: (StreamUnit) -> Void) {
        preferredFraming = framing
        framing = .undetermined
        scanning = true
        scanReason = .lostSync
        scannedWithoutSync = 0
    }

    /// The first offset where a STUN header (cookie at +4) or an RFC 4571
    /// frame holding one (cookie at +6, lengths agreeing) begins.
    static func findSync(_ b: UnsafeRawBufferPointer, prefer: Framing) -> (Int, Framing)? {
        guard b.count >= 10 else { return nil }
        var q = 0
        while q &+ 10 <= b.count {
            let stunHere = b[q] & 0xC0 == 0 && b.loadBE32(q &+ 4) == StunHeader.magicCookie
            let framedHere = b[q &+ 2] & 0xC0 == 0 && b.loadBE32(q &+ 6) == StunHeader.magicCookie
                && Int(b.loadBE16(q)) == StunHeader.length &+ Int(b.loadBE16(q &+ 4))
            if framedHere && (prefer == .rfc4571 || !stunHere) { return (q, .rfc4571) }
            if stunHere { return (q, .stun) }
            q &+= 1
        }
        return nil
    }
}
