import Reconstruction
import StunWire
import Testing

/// ChannelData on an ICE pair counts as media only when the dissector found no
/// STUN message inside it: a relayed check and its response are checks.
@Suite("Relayed checks and media in ChannelData")
struct RelayedCheckMediaTests {
    @Test("a relayed check and its response are not media; the RTP around them is")
    func checksAreNotMedia() throws {
        let client = "192.0.2.10:50000", server = "203.0.113.1:3478"
        let relayed = "203.0.113.1:49152", peer = "198.51.100.7:40000"
        var traffic = HandMadeTraffic()
        traffic.udp(client, server, at: 0, stun(.allocate, .request, id: 1) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        traffic.udp(server, client, at: 0.01, stun(.allocate, .success, id: 1) {
            $0.address(.xorRelayedAddress, relayed)
            $0.add(.lifetime, uint32: 600)
        })
        traffic.udp(client, server, at: 0.02, stun(.channelBind, .request, id: 2) {
            $0.add(.channelNumber, [0x40, 0x00, 0, 0])
            $0.address(.xorPeerAddress, peer)
        })
        traffic.udp(server, client, at: 0.03, stun(.channelBind, .success, id: 2))
        // The relayed agent's check to the peer and the peer's answer, inside ChannelData.
        traffic.udp(client, server, at: 0.04, channelData(0x4000, stun(.binding, .request, id: 3) {
            $0.add(.username, string: "peer:relayed")
            $0.add(.priority, uint32: 16_777_215)
            $0.add(.iceControlling, uint64: 7)
        }))
        traffic.udp(server, client, at: 0.05, channelData(0x4000, stun(.binding, .success, id: 3) {
            $0.address(.xorMappedAddress, relayed)
        }))
        let rtp: [UInt8] = [0x80, 0x60] + [UInt8](repeating: 0, count: 98)
        for i in 0..<3 { traffic.udp(client, server, at: 0.1 + Double(i) * 0.02, channelData(0x4000, rtp)) }
        traffic.udp(server, client, at: 0.2, channelData(0x4000, rtp))

        let doc = traffic.document()
        #expect(doc.stats.channelDataFrames == 6)
        #expect(doc.iceSessions.count == 1)
        let session = try #require(doc.iceSessions.first)
        let pair = try #require(session.pairs.first)
        #expect(session.pairs.count == 1)
        #expect(pair.requestsSent == 1)
        #expect(pair.responsesReceived == 1)
        // The four RTP frames (three from the relayed side, one from the peer), not the check or its answer.
        #expect(pair.mediaPackets == 4)
        #expect(pair.mediaBytes == 400)
    }
}
