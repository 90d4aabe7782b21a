import PacketDecoding

/// A checked view of a TURN ChannelData message (RFC 8656 section 12.4):
/// channel number (2), length (2), application data, padding to 4 bytes
/// over TCP (optional over UDP). MS-TURN's multiplexed channel 0xFF10 puts
/// an 8-byte session id before the data, inside the length.
public struct ChannelDataView {
    public let channel: UInt16
    /// The length field: bytes of application data (MS-TURN: plus the session id).
    public let declaredLength: Int
    /// Exactly the application data: what the relay forwards to the peer.
    public let payload: UnsafeRawBufferPointer
    /// Bytes the frame occupies, padding included.
    public let frameLength: Int
    /// MS-TURN multiplexed-channel session id (channel 0xFF10 only).
    public let msTurnSessionID: UInt64?

    public static let headerLength = 4
    public static let msTurnMultiplexedChannel: UInt16 = 0xFF10

    /// RFC 5766 allowed 0x4000-0x7FFF (RFC 8656 narrowed it to 0x4FFF;
    /// older stacks still use the rest); MS-TURN adds 0xFF10.
    @inlinable public static func isChannelNumber(_ value: UInt16) -> Bool {
        (0x4000...0x7FFF).contains(value) || value == msTurnMultiplexedChannel
    }

    init?(frame b: UnsafeRawBufferPointer, frameLength: Int) {
        let channel = b.loadBE16(0)
        let declared = Int(b.loadBE16(2))
        guard ChannelDataView.headerLength &+ declared <= b.count else { return nil }
        var start = ChannelDataView.headerLength
        var sessionID: UInt64?
        if channel == ChannelDataView.msTurnMultiplexedChannel {
            guard declared >= 8 else { return nil }
            sessionID = b.loadBE64(4)
            start &+= 8
        }
        self.channel = channel
        self.declaredLength = declared
        self.payload = UnsafeRawBufferPointer(rebasing: b[start..<(ChannelDataView.headerLength &+ declared)])
        self.frameLength = frameLength
        self.msTurnSessionID = sessionID
    }

    /// A UDP datagram holding exactly one ChannelData message, with or without padding.
    public static func datagram(_ b: UnsafeRawBufferPointer) -> ChannelDataView? {
        guard b.count >= headerLength, isChannelNumber(b.loadBE16(0)) else { return nil }
        let exact = headerLength &+ Int(b.loadBE16(2))
        guard b.count == exact || b.count == (exact &+ 3) & ~3 else { return nil }
        return ChannelDataView(frame: b, frameLength: b.count)
    }

    /// Over TCP every frame is padded to 4 bytes: the size of the frame
    /// starting at `b`, or nil when `b` does not start with a channel number.
    public static func streamFrameLength(_ b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= headerLength, isChannelNumber(b.loadBE16(0)) else { return nil }
        return (headerLength &+ Int(b.loadBE16(2)) &+ 3) & ~3
    }

    /// A frame cut from a stream; `b` holds at least `streamFrameLength(b)` bytes.
    public static func streamFrame(_ b: UnsafeRawBufferPointer) -> ChannelDataView? {
        guard let length = streamFrameLength(b), length <= b.count else { return nil }
        return ChannelDataView(frame: UnsafeRawBufferPointer(rebasing: b[0..<length]), frameLength: length)
    }
}
