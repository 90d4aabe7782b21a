import NetworkVocabulary
import PacketDecoding

/// One datagram of a template capture, kept to be replayed: an untagged
/// Ethernet frame holding one unfragmented IPv4/UDP datagram with nothing
/// after it, the only shape the rewriter keeps valid by changing addresses,
/// ports, payload and checksums in place. (The decoder accepts much more:
/// VLAN tags, fragments, trailers; the generator does not need them.)
struct TemplatePacket {
    /// Nanoseconds since the template's first kept packet.
    var time: Int64
    var frame: [UInt8]
    /// Where the IPv4 header and the UDP header start in `frame`.
    let ipOffset: Int
    let udpOffset: Int
    var source: Endpoint
    var destination: Endpoint
    /// The UDP payload, parsed once (`TemplatePayload`).
    var payload: TemplatePayload
    /// Relay traffic (ChannelData, Send/Data indications, peer leg): repeated in every round.
    var isRelay = false

    var payloadOffset: Int { udpOffset + 8 }

    /// The IPv4 and UDP header offsets of a frame of that shape, or nil.
    static func locateIPv4UDP(in frame: UnsafeRawBufferPointer) -> (ip: Int, udp: Int)? {
        let ip = 14
        guard frame.count >= ip + 20 + 8, frame.loadBE16(12) == 0x0800, frame[ip] >> 4 == 4 else { return nil }
        let headerLength = Int(frame[ip] & 0x0f) * 4
        // Protocol UDP; neither more fragments nor a fragment offset.
        guard headerLength >= 20, frame[ip + 9] == 17, frame.loadBE16(ip + 6) & 0x3fff == 0 else { return nil }
        let udp = ip + headerLength
        guard ip + Int(frame.loadBE16(ip + 2)) == frame.count, udp + 8 <= frame.count,
              Int(frame.loadBE16(udp + 4)) == frame.count - udp else { return nil }
        return (ip, udp)
    }
}
