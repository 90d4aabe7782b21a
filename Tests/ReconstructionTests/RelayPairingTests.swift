import Foundation
import Reconstruction
import StunWire
import Testing

/// RelayLegCorrelator and the relay half of TurnAllocationTracker: what
/// arrives on one leg of a TURN server (ChannelData / Send from the client,
/// UDP from the peer) paired with what leaves on the other, the forwarding
/// delay, and what was never forwarded. Against coturn's per-leg counters
/// (`counters.peerLeg`: rp/rb received from the peer, sp/sb sent to it) and
/// hand-made legs with known delays.
@Suite("Relay pairing")
struct RelayPairingTests {
    /// Captures taken on the TURN server's interface: both legs on the wire.
    static let bothLegs = [
        "turn-udp-channels.server.pcap", "turn-udp-channels.server-pcapng.pcapng", "turn-udp-channels.server-sll2.pcap",
        "turn-udp-channels.server-nano.pcap", "turn-udp-send.server.pcap", "turn-tcp.server.pcap", "turn-stale-nonce.server.pcap",
        "turn-expiry.server.pcap", "turn-ipv6.server.pcap", "turn-xss-strings.server.pcap",
    ]
    /// Captures before or after the client's NAT: no peer leg.
    static let clientLegOnly = [
        "turn-udp-channels.client-lan.pcap", "turn-udp-channels.public.pcap", "turn-udp-send.client-lan.pcap",
        "turn-tcp.client-lan.pcap", "turn-tcp.public.pcap", "turn-stale-nonce.client-lan.pcap", "turn-expiry.client-lan.pcap",
        "turn-ipv6.client-lan.pcap", "turn-ipv6.public.pcap", "turn-xss-strings.client-lan.pcap",
    ]

    @Test("peer-leg packets and bytes equal coturn's peer usage counters", arguments: bothLegs)
    func peerLegCounters(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        #expect(truth["turn"]["legsVisible"].strings.contains("peer"))
        let doc = try Corpus.analyze(capture)
        for t in truth["turn"]["allocations"].array where !t["counters"].isNull {
            let client = try #require(t["client"].string)
            let a = try #require(doc.allocation(client: client))
            let leg = t["counters"]["peerLeg"]
            #expect(a.traffic.peerLegFromPeer == leg["rp"].int, "\(client)")
            #expect(a.traffic.peerLegToPeer == leg["sp"].int, "\(client)")
            #expect(a.traffic.peerLegFromPeerBytes == leg["rb"].int, "\(client)")
            #expect(a.traffic.peerLegToPeerBytes == leg["sb"].int, "\(client)")
        }
    }

    @Test("every relayed datagram is paired across the legs, with its forwarding delay, none unforwarded", arguments: bothLegs)
    func everyDatagramPaired(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let peer = try #require(truth["turn"]["peer"].string)
        for t in truth["turn"]["allocations"].array where !t["counters"].isNull {
            let client = try #require(t["client"].string)
            let a = try #require(doc.allocation(client: client))
            let leg = t["counters"]["peerLeg"]
            let sent = try #require(leg["sp"].int), received = try #require(leg["rp"].int)
            // The peer (turnutils_peer) listens on one port: all relayed data is to and from it.
            if sent + received > 0 {
                let p = try #require(a.peers.first { $0.peer == peer }, "\(client): no peer \(peer)")
                #expect(p.peerLegToPeer == sent && p.peerLegFromPeer == received, "\(client)")
                #expect(p.forwardingDelayToPeer?.samples == sent, "\(client): client leg -> peer leg pairs")
                #expect(p.forwardingDelayFromPeer?.samples == received, "\(client): peer leg -> client leg pairs")
                for d in [p.forwardingDelayToPeer, p.forwardingDelayFromPeer].compactMap({ $0 }) {
                    #expect(d.median >= 0 && d.median <= d.p95 && d.p95 <= d.max && d.max < 1, "\(client): \(d)")
                }
            }
            for p in a.peers {
                #expect(p.neverForwardedToPeer == 0 && p.neverForwardedFromPeer == 0, "\(client) peer \(p.peer)")
            }
            // What the client sent and got on the client leg: one message per relayed datagram.
            let viaChannels = !t["channels"].array.isEmpty
            #expect((viaChannels ? a.traffic.channelDataToServer : a.traffic.sendIndications) == sent, "\(client)")
            #expect((viaChannels ? a.traffic.channelDataFromServer : a.traffic.dataIndications) == received, "\(client)")
            #expect((viaChannels ? a.traffic.sendIndications : a.traffic.channelDataToServer) == 0, "\(client)")
        }
        #expect(!doc.findingCodes.contains(.turnRelayNotForwarded))
        #expect(!doc.findingCodes.contains(.turnChannelUnbound))
        #expect(!doc.findingCodes.contains(.turnPermissionMissing))
    }

    @Test("without the peer leg: no peer-leg counts, no delays, nothing called unforwarded", arguments: clientLegOnly)
    func clientLegOnlyVantage(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        #expect(!truth["turn"]["legsVisible"].strings.contains("peer"))
        let doc = try Corpus.analyze(capture)
        for a in doc.allocations {
            #expect(a.traffic.peerLegToPeer == 0 && a.traffic.peerLegFromPeer == 0, "allocation \(a.id)")
            for p in a.peers {
                #expect(p.forwardingDelayToPeer == nil && p.forwardingDelayFromPeer == nil, "allocation \(a.id)")
                #expect(p.neverForwardedToPeer == 0 && p.neverForwardedFromPeer == 0, "allocation \(a.id)")
            }
        }
        #expect(!doc.findingCodes.contains(.turnRelayNotForwarded))
        // The client leg still carries the relayed data.
        for t in truth["turn"]["allocations"].array where !t["counters"].isNull {
            let a = try #require(doc.allocation(client: t["client"].string ?? ""))
            let sent = t["counters"]["peerLeg"]["sp"].int ?? 0
            #expect(a.traffic.channelDataToServer + a.traffic.sendIndications == sent, "allocation \(a.id)")
        }
    }

    @Test("RFC 6062: a Connect and a ConnectionAttempt, each bound on the data connection coturn logged",
          arguments: ["turn-tcp-relay.server.pcap", "turn-tcp-relay.client-lan.pcap"])
    func tcpDataConnections(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let connections = doc.allocations.flatMap(\.tcpConnections)
        #expect(Set(connections.compactMap(\.dataConnection)) == Set(truth["turn"]["tcpDataConnections"].array.compactMap { $0["client"].string }))
        #expect(connections.allSatisfy { $0.outcome == .bound })
        let byClient = connections.filter { $0.initiatedBy == .client }, byPeer = connections.filter { $0.initiatedBy == .peer }
        #expect(byClient.count == 1 && byPeer.count == 1)
        // One allocation connects to the other's relayed address; the other hears of it from
        // the first one's relayed address (each side its own CONNECTION-ID).
        let relayed = Set(truth["turn"]["allocations"].array.flatMap { $0["relayed"].strings })
        for c in connections { #expect(relayed.contains(c.peer), "\(c.peer)") }
        if let connect = byClient.first, let attempt = byPeer.first {
            #expect(connect.connectionId != nil && attempt.connectionId != nil)
            let connector = doc.allocations.first { $0.tcpConnections.contains { $0.initiatedBy == .client } }
            let acceptor = doc.allocations.first { $0.tcpConnections.contains { $0.initiatedBy == .peer } }
            #expect(acceptor?.relayed == [connect.peer])
            #expect(connector?.relayed == [attempt.peer])
        }
        #expect(doc.stats.malformed == 0, "relayed data after ConnectionBind is not STUN")
    }

    /// The ICE runs share one coturn: one agent's allocation has the other's relayed address among
    /// its peers (`turnServer.allocations[].peers`). coturn hands such datagrams from one relayed
    /// address to the other inside the host (the same IP): that leg is never on a wire.
    @Test("relay to relay on one TURN server: off the wire, so never called unforwarded",
          arguments: IceCorpus.captures.filter { !$0.hasPrefix("ice-prflx-public") })   // there coturn is a STUN server only
    func relayToRelay(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let relayed = Set(truth["turnServer"]["allocations"].array.compactMap { $0["relayed"].string })
        let peersOfRelays = truth["turnServer"]["allocations"].array.flatMap { $0["peers"].strings }.filter { relayed.contains($0) }
        #expect(!peersOfRelays.isEmpty, "a relayed address is another allocation's peer")
        let onServer = doc.allocations.flatMap { a in a.peers.filter { relayed.contains($0.peer) }.map { (a, $0) } }
        for (a, p) in onServer {
            #expect(p.peerLegToPeer == 0 && p.peerLegFromPeer == 0, "allocation \(a.id) peer \(p.peer): not on a wire")
            #expect(p.neverForwardedToPeer == 0 && p.neverForwardedFromPeer == 0, "allocation \(a.id) peer \(p.peer)")
            // Chained where this capture shows both allocations (public segment, TURN server).
            let owner = doc.allocations.first { $0.relayed.contains(p.peer) }
            #expect(p.chainedAllocation == owner?.id, "allocation \(a.id) peer \(p.peer)")
        }
        let bothVisible = onServer.contains { _, p in doc.allocations.contains { $0.relayed.contains(p.peer) } }
        #expect(doc.findingCodes.contains(.turnRelayChained) == bothVisible)
        #expect(!doc.findings.contains { $0.code == .turnRelayNotForwarded && $0.severity != .info })
    }

    // MARK: Hand-made legs

    static let client = AllocationLifecycleTests.client
    static let server = AllocationLifecycleTests.server
    static let relayed = AllocationLifecycleTests.relayed
    static let peer = AllocationLifecycleTests.peer

    static func rtp(_ n: UInt8, length: Int = 20) -> [UInt8] { [0x80, n] + [UInt8](repeating: n, count: length - 2) }

    /// Allocation (frames 1-4) and channel 0x4000 to the peer (frames 5-6).
    static func withChannel() -> HandMadeTraffic {
        var t = HandMadeTraffic()
        AllocationLifecycleTests.allocate(&t)
        t.udp(client, server, at: 0.5, AllocationLifecycleTests.signed(.channelBind, id: 3) {
            $0.add(.channelNumber, [0x40, 0x00, 0, 0])
            $0.address(.xorPeerAddress, peer)
        })
        t.udp(server, client, at: 0.51, stun(.channelBind, .success, id: 3))
        return t
    }

    @Test("ChannelData both ways paired with the peer leg: the delays, the frames, one never forwarded")
    func channelDataPaired() throws {
        var t = Self.withChannel()
        t.udp(Self.client, Self.server, at: 1.000, channelData(0x4000, Self.rtp(1)))   // frame 7
        t.udp(Self.relayed, Self.peer, at: 1.002, Self.rtp(1))                          // forwarded after 2 ms
        t.udp(Self.peer, Self.relayed, at: 2.000, Self.rtp(2, length: 32))
        t.udp(Self.server, Self.client, at: 2.003, channelData(0x4000, Self.rtp(2, length: 32)))  // after 3 ms
        t.udp(Self.client, Self.server, at: 3.000, channelData(0x4000, Self.rtp(3)))   // frame 11: never leaves
        t.udp("192.0.2.99:4000", Self.server, at: 10, stun(.binding, .indication, id: 9))  // the capture runs on past 5 s
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        let p = try #require(a.peers.first { $0.peer == Self.peer })
        #expect(a.peers.count == 1)
        #expect(p.channelDataToServer == 2 && p.channelDataFromServer == 1 && p.peerLegToPeer == 1 && p.peerLegFromPeer == 1)
        #expect(p.bytesToPeer == 40 && p.bytesFromPeer == 32)
        let toPeer = try #require(p.forwardingDelayToPeer)
        let fromPeer = try #require(p.forwardingDelayFromPeer)
        #expect(toPeer.samples == 1 && abs(toPeer.max - 0.002) < 1e-6 && abs(toPeer.median - 0.002) < 1e-6)
        #expect(fromPeer.samples == 1 && abs(fromPeer.max - 0.003) < 1e-6)
        #expect(p.neverForwardedToPeer == 1 && p.neverForwardedFromPeer == 0)
        let channel = try #require(a.channels.first)
        #expect(channel.number == 0x4000 && channel.peer == Self.peer)
        #expect(channel.framesToServer == 2 && channel.framesFromServer == 1 && channel.bytesToServer == 40 && channel.bytesFromServer == 32)
        #expect(a.traffic.peerLegToPeerBytes == 20 && a.traffic.peerLegFromPeerBytes == 32)
        #expect(doc.findings.contains { $0.code == .turnRelayNotForwarded && $0.session == .allocation(a.id) })
        #expect(!doc.findingCodes.contains(.turnChannelUnbound))
        #expect(!doc.findingCodes.contains(.turnPermissionMissing))
    }

    @Test("the last arrival within 5 s of the capture's end is not called unforwarded")
    func arrivalAtCaptureEnd() throws {
        var t = Self.withChannel()
        t.udp(Self.client, Self.server, at: 1.000, channelData(0x4000, Self.rtp(1)))
        t.udp(Self.relayed, Self.peer, at: 1.002, Self.rtp(1))
        t.udp(Self.client, Self.server, at: 3.000, channelData(0x4000, Self.rtp(3)))   // the capture ends here
        let doc = t.document()
        let p = try #require(doc.allocations.first?.peers.first)
        #expect(p.neverForwardedToPeer == 0 && p.forwardingDelayToPeer?.samples == 1)
        #expect(!doc.findingCodes.contains(.turnRelayNotForwarded))
    }

    @Test("Send and Data indications paired with the peer leg")
    func indicationsPaired() throws {
        var t = HandMadeTraffic()
        AllocationLifecycleTests.allocate(&t)
        t.udp(Self.client, Self.server, at: 0.5, AllocationLifecycleTests.signed(.createPermission, id: 3) {
            $0.address(.xorPeerAddress, Self.peer)
        })
        t.udp(Self.server, Self.client, at: 0.51, stun(.createPermission, .success, id: 3))
        t.udp(Self.client, Self.server, at: 1.000, stun(.send, .indication, id: 4) {
            $0.address(.xorPeerAddress, Self.peer)
            $0.add(.data, Self.rtp(1))
        })
        t.udp(Self.relayed, Self.peer, at: 1.001, Self.rtp(1))
        t.udp(Self.peer, Self.relayed, at: 2.000, Self.rtp(2, length: 24))
        t.udp(Self.server, Self.client, at: 2.004, stun(.data, .indication, id: 5) {
            $0.address(.xorPeerAddress, Self.peer)
            $0.add(.data, Self.rtp(2, length: 24))
        })
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.permissions.map(\.peer) == ["203.0.113.20"] && a.channels.isEmpty)
        #expect(a.traffic.sendIndications == 1 && a.traffic.dataIndications == 1)
        #expect(a.traffic.sendIndicationBytes == 20 && a.traffic.dataIndicationBytes == 24)
        let p = try #require(a.peers.first { $0.peer == Self.peer })
        #expect(p.sendIndications == 1 && p.dataIndications == 1)
        #expect(p.forwardingDelayToPeer.map { $0.samples == 1 && abs($0.max - 0.001) < 1e-6 } ?? false)
        #expect(p.forwardingDelayFromPeer.map { $0.samples == 1 && abs($0.max - 0.004) < 1e-6 } ?? false)
        #expect(p.neverForwardedToPeer == 0 && p.neverForwardedFromPeer == 0)
        #expect(doc.findings.isEmpty, "\(doc.findings.map(\.code))")
    }

    @Test("ChannelData on a channel never bound: unbound, counted on the client leg, paired with nothing")
    func unboundChannel() throws {
        var t = HandMadeTraffic()
        AllocationLifecycleTests.allocate(&t)
        t.udp(Self.client, Self.server, at: 1, channelData(0x4001, Self.rtp(1)))   // frame 5
        t.udp("192.0.2.99:4000", Self.server, at: 10, stun(.binding, .indication, id: 9))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.channels.isEmpty && a.peers.isEmpty)
        #expect(a.traffic.channelDataToServer == 1 && a.traffic.channelDataToServerBytes == 20)
        #expect(doc.findings.contains { $0.code == .turnChannelUnbound && $0.frames == [5] && $0.session == .allocation(a.id) })
        #expect(a.timeline.contains { $0.frame == 5 && $0.kind.relay?.kind == .channelDataUnbound(0x4001) })
        #expect(!doc.findingCodes.contains(.turnRelayNotForwarded))
        #expect(!doc.findingCodes.contains(.turnAllocationUsedAfterEnd))
    }

    @Test("a Send indication to a peer without a permission")
    func sendWithoutPermission() throws {
        var t = HandMadeTraffic()
        AllocationLifecycleTests.allocate(&t)
        t.udp(Self.client, Self.server, at: 1, stun(.send, .indication, id: 4) {   // frame 5
            $0.address(.xorPeerAddress, Self.peer)
            $0.add(.data, Self.rtp(1))
        })
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.permissions.isEmpty)
        #expect(doc.findings.contains { $0.code == .turnPermissionMissing && $0.frames == [5] && $0.session == .allocation(a.id) })
    }

    @Test("a peer's datagram without a permission is dropped by design: not unforwarded")
    func peerWithoutPermission() throws {
        var t = HandMadeTraffic()
        AllocationLifecycleTests.allocate(&t)
        t.udp(Self.peer, Self.relayed, at: 1, Self.rtp(7))
        t.udp("192.0.2.99:4000", Self.server, at: 10, stun(.binding, .indication, id: 9))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        let p = try #require(a.peers.first { $0.peer == Self.peer })
        #expect(p.peerLegFromPeer == 1 && a.traffic.peerLegFromPeer == 1)
        #expect(p.neverForwardedFromPeer == 0 && p.forwardingDelayFromPeer == nil)
        // Dropped for a reason the capture shows (no permission for that peer, ever): said with it.
        #expect(p.droppedNoPermission == 1)
        let f = try #require(doc.findings.first { $0.code == .turnRelayNotForwarded })
        #expect(f.severity == .warning && f.frames.count == 1 && "\(f.message)".contains("no permission"))
    }
}
