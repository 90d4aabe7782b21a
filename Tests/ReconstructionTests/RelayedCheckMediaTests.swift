import NetworkVocabulary
import Reconstruction
import StunWire
import Testing
import WireEvents

/// ChannelData on an ICE pair counts as media only when the dissector says its
/// payload is not a STUN message: a relayed check and its response are checks.
@Suite("Relayed checks and media in ChannelData")
struct RelayedCheckMediaTests {
    static let client = Endpoint("192.0.2.10:50000")!
    static let server = Endpoint("203.0.113.1:3478")!
    static let relayed = Endpoint("203.0.113.1:49152")!
    static let peer = Endpoint("198.51.100.7:40000")!

    /// Wire events as the dissector would report them, into a reconstructor.
    final class Feed {
        let reconstructor = SessionReconstructor()
        var frame = 0

        func next() -> FrameContext {
            frame += 1
            return FrameContext(frame: frame, time: CaptureTime(seconds: 1_700_000_000, nanoseconds: Int64(frame) * 10_000_000))
        }

        static func message(_ method: StunMethod, _ cls: StunMessageClass, id: UInt8,
                            _ build: (inout StunMessageBuilder) -> Void = { _ in }) -> [UInt8] {
            var b = StunMessageBuilder(type: StunMessageType(method: method, messageClass: cls),
                                       transactionID: [UInt8](repeating: id, count: 12))
            build(&b)
            return b.bytes
        }

        func stun(_ from: Endpoint, _ to: Endpoint, _ bytes: [UInt8], context: FrameContext? = nil, carrier: MessageCarrier? = nil) {
            let message = bytes.withUnsafeBytes { StunMessage.parse($0) }!
            let payload = bytes.withUnsafeBytes { PayloadSummary($0) }
            reconstructor.wireEvent(.stunMessage(StunMessageEvent(context: context ?? next(),
                                                                  flow: FiveTuple(source: from, destination: to, transport: .udp),
                                                                  message: message, payload: payload, carrier: carrier)))
        }

        /// A ChannelData frame; a STUN payload follows as its nested message, as the dissector reports it.
        func channelData(_ from: Endpoint, _ to: Endpoint, _ payload: [UInt8], stun: Bool) {
            let context = next()
            let flow = FiveTuple(source: from, destination: to, transport: .udp)
            let summary = payload.withUnsafeBytes { PayloadSummary($0) }
            reconstructor.wireEvent(.channelData(ChannelDataEvent(context: context, flow: flow, channel: 0x4000, length: payload.count,
                                                                  payload: summary, carriesStunMessage: stun)))
            if stun {
                self.stun(from, to, payload, context: context,
                          carrier: MessageCarrier(kind: .channelData, frame: context.frame, flow: flow, channel: 0x4000))
            }
        }
    }

    @Test("a relayed check and its response are not media; the frames around them are")
    func checksAreNotMedia() throws {
        let feed = Feed()
        let (client, server) = (Self.client, Self.server)
        feed.stun(client, server, Feed.message(.allocate, .request, id: 1) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        feed.stun(server, client, Feed.message(.allocate, .success, id: 1) {
            $0.add(.xorRelayedAddress, address: Self.relayed, xor: true)
            $0.add(.lifetime, uint32: 600)
        })
        feed.stun(client, server, Feed.message(.channelBind, .request, id: 2) {
            $0.add(.channelNumber, [0x40, 0x00, 0, 0])
            $0.add(.xorPeerAddress, address: Self.peer, xor: true)
        })
        feed.stun(server, client, Feed.message(.channelBind, .success, id: 2))
        feed.channelData(client, server, Feed.message(.binding, .request, id: 3) {
            $0.add(.username, string: "remote:local")
            $0.add(.priority, uint32: 1_845_501_695)
            $0.add(.iceControlling, uint64: 7)
        }, stun: true)
        feed.channelData(server, client, Feed.message(.binding, .success, id: 3) {
            $0.add(.xorMappedAddress, address: Self.relayed, xor: true)
        }, stun: true)
        let rtp: [UInt8] = [0x80, 0x60] + [UInt8](repeating: 0, count: 98)
        for _ in 0..<3 { feed.channelData(client, server, rtp, stun: false) }
        feed.channelData(server, client, rtp, stun: false)

        let doc = feed.reconstructor.finish(packets: feed.frame)
        let session = try #require(doc.iceSessions.first)
        #expect(doc.iceSessions.count == 1)
        let pair = try #require(session.pairs.first)
        #expect(pair.requestsSent == 1)
        #expect(pair.responsesReceived == 1)
        // The four RTP frames: three from the relayed side, one from the peer.
        #expect(pair.mediaPackets == 4)
        #expect(pair.mediaBytes == 400)
        #expect(doc.stats.channelDataFrames == 6)
    }
}
