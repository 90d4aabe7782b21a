import NetworkVocabulary
import PacketDecoding
import StunWire
import TestSupport

/// Writes a template packet as one replay sends it: its own client and peer
/// addresses, relay ports, channel numbers and transaction ids, application
/// data varied per round, STUN written again with `StunMessage.emit`, and
/// the IPv4 header and UDP checksums recomputed. Every change is a function
/// of (seed, replay, epoch, template bytes), so each copy of a message
/// agrees with the others (a request and the DATA that relays it, both legs
/// of a relayed payload).
struct ReplayRewriter {
    let seed: UInt64

    /// Writes the frame into `frame` (emptied first, its storage reused).
    func write(_ packet: TemplatePacket, of replay: SessionReplay, epoch: Int, into frame: inout [UInt8]) {
        frame.removeAll(keepingCapacity: true)
        frame.append(contentsOf: packet.frame[..<packet.payloadOffset])
        // Source first, then destination, then the payload: the order client addresses get their slots in.
        let source = mapEndpoint(packet.source, replay)
        let destination = mapEndpoint(packet.destination, replay)
        let ip = packet.ipOffset, udp = packet.udpOffset
        store(source.ipv4, at: ip + 12, in: &frame)
        store(destination.ipv4, at: ip + 16, in: &frame)
        store(source.port, at: udp, in: &frame)
        store(destination.port, at: udp + 2, in: &frame)
        write(packet.payload, of: replay, epoch: epoch, depth: 0, into: &frame)
        precondition(frame.count == packet.frame.count, "a rewritten payload keeps its size (checked when the template was loaded)")
        let headerChecksum = frame.withUnsafeBytes { InternetChecksum.ipv4Header(UnsafeRawBufferPointer(rebasing: $0[ip..<udp])) }
        store(headerChecksum, at: ip + 10, in: &frame)
        let udpChecksum = frame.withUnsafeBytes {
            InternetChecksum.udp(source: source.address, destination: destination.address, datagram: UnsafeRawBufferPointer(rebasing: $0[udp...]))
        }
        store(udpChecksum, at: udp + 6, in: &frame)
    }

    // MARK: Addresses, ports, channels

    /// Client and peer addresses: 100.64.0.0/10 (RFC 6598), 64 per replay, or
    /// as many as the template has from the replay's `addressBase` (a million
    /// replays would not fit 64 each).
    private func mapIP(_ address: UInt32, _ replay: SessionReplay) -> UInt32 {
        if replay.template.serverIPs.contains(address) { return address }
        let slot = replay.template.clientSlot(address)
        if let base = replay.addressBase {
            precondition(slot < replay.template.clientAddressCount, "clientAddressCount counts every address a replay maps")
            return 0x6440_0000 | UInt32((base + slot) & 0x3f_ffff)
        }
        return 0x6440_0000 | UInt32((replay.id * 64 + (slot & 63)) & 0x3f_ffff)
    }

    /// Server addresses stay; each replay's relayed addresses get their own port in 49152-65535.
    private func mapEndpoint(_ endpoint: Endpoint, _ replay: SessionReplay) -> Endpoint {
        let template = replay.template
        let address = endpoint.ipv4
        if template.serverIPs.contains(address) {
            if let relayed = template.relayEndpoints[endpoint] {
                return Endpoint(.v4(address), replay.relayPort(relayed))
            }
            return endpoint
        }
        return Endpoint(.v4(mapIP(address, replay)), endpoint.port)
    }

    /// RFC 8656 channel numbers (0x4000-0x4FFF) shift by 7 per replay; others stay.
    private func mapChannel(_ channel: UInt16, _ replay: SessionReplay) -> UInt16 {
        guard (0x4000...0x4fff).contains(channel) else { return channel }
        return 0x4000 | UInt16((Int(channel - 0x4000) + replay.id * 7) & 0x0fff)
    }

    // MARK: Payloads

    private func write(_ payload: TemplatePayload, of replay: SessionReplay, epoch: Int, depth: Int, into out: inout [UInt8]) {
        switch payload {
        case let .stun(message, data):
            write(message, data: data, of: replay, epoch: epoch, depth: depth, into: &out)
        case let .channelData(channel, framing, body, padding):
            let mapped = mapChannel(channel, replay)
            out.append(UInt8(truncatingIfNeeded: mapped >> 8))
            out.append(UInt8(truncatingIfNeeded: mapped))
            out += framing
            write(body, of: replay, epoch: epoch, depth: depth + 1, into: &out)
            out += padding
        case let .application(bytes):
            let start = out.count
            out += bytes
            // Vary bytes 4..<12 per replay and round, keeping the RFC 7983 first byte (and RTP's sequence
            // number). The template's first pass of a top-level datagram stays as captured.
            guard epoch > 0 || depth > 0 else { return }
            var mask = SplitMix64.mix(seed ^ UInt64(replay.id) &* 0x1000_0000_01b3 ^ UInt64(epoch) &* 0x9E37_79B9)
            for offset in (start + 4)..<min(out.count, start + 12) {
                out[offset] ^= UInt8(truncatingIfNeeded: mask)
                mask >>= 8
            }
        }
    }

    private func write(_ template: StunMessage, data: TemplatePayload?, of replay: SessionReplay, epoch: Int, depth: Int,
                       into out: inout [UInt8]) {
        var message = template
        message.transactionID = transactionID(for: template.transactionID, replay, epoch: epoch)
        var dataBytes: [UInt8]?
        // In wire order, so client addresses get their slots as the attributes come.
        for index in message.attributes.indices {
            let attribute = message.attributes[index]
            switch attribute.value {
            case let .address(endpoint) where TemplatePayload.movedAddressAttributes.contains(attribute.type) && !endpoint.address.isIPv6:
                message.attributes[index].value = .address(mapEndpoint(endpoint, replay))
            case let .string(username) where attribute.type == .username && message.method == .binding && replay.renamesIceAgents:
                message.attributes[index].value = .string(renamedIceUsername(username, replay))
            case let .unsigned(channel) where attribute.type == .channelNumber:
                message.attributes[index].value = .unsigned(UInt64(mapChannel(UInt16(truncatingIfNeeded: channel), replay)))
            case .data:
                guard let data else { break }
                var relayed: [UInt8] = []
                write(data, of: replay, epoch: epoch, depth: depth + 1, into: &relayed)
                message.attributes[index].value = .data(relayed.withUnsafeBytes { PayloadSummary($0) })
                dataBytes = relayed
            default:
                break
            }
        }
        do {
            try message.emit(into: &out, data: dataBytes)
        } catch {
            preconditionFailure("the template's STUN message was written once when it was loaded: \(error)")
        }
    }

    /// ICE's "receiver:sender" USERNAME with each ufrag renamed for the replay: the same
    /// length (the message keeps its size), ice-chars (RFC 8445 section 5.3), a function of
    /// (seed, replay, ufrag) so both agents and every check agree. Anything else stays.
    private func renamedIceUsername(_ username: String, _ replay: SessionReplay) -> String {
        let parts = username.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, username.utf8.allSatisfy({ $0 < 0x80 }) else { return username }
        return parts.map { ufrag -> String in
            var hash = SplitMix64.mix(seed ^ 0x5546_5241_4700 ^ UInt64(replay.id))
            for byte in ufrag.utf8 { hash = SplitMix64.mix(hash ^ UInt64(byte)) }
            var renamed = ""
            for _ in ufrag.utf8 {
                renamed.append(Self.iceChars[Int(hash & 63)])
                hash = SplitMix64.mix(hash)
            }
            return renamed
        }.joined(separator: ":")
    }

    private static let iceChars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    /// A new transaction id: a function of (seed, replay, epoch, old id), so
    /// a request and its response, and each copy of a relayed message, agree.
    private func transactionID(for old: StunTransactionID, _ replay: SessionReplay, epoch: Int) -> StunTransactionID {
        var hash = SplitMix64.mix(seed ^ 0x5354_554E ^ UInt64(replay.id))
        hash = SplitMix64.mix(hash ^ UInt64(epoch))
        // The id's three 32-bit words, after the cookie.
        for word in [old.high & 0xFFFF_FFFF, old.low >> 32, old.low & 0xFFFF_FFFF] { hash = SplitMix64.mix(hash ^ word) }
        let last = SplitMix64.mix(hash ^ 0xA5A5)
        return StunTransactionID(high: hash >> 32, low: (hash << 32) | (last & 0xFFFF_FFFF), isClassic: false)
    }

    /// Writes `value` in network byte order over `bytes[offset...]`, which the frame's size guarantees are there.
    private func store<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self) }
    }
}
