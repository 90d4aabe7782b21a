import NetworkVocabulary
import StunWire
import Testing
import WireEvents
import TestSupport

let client = "192.168.77.10:40000"
let server = "198.51.100.10:80"      // a TURN server on a port that is not 3478
let peer = "198.51.100.20:3480"
let relay = "198.51.100.11:50000"

@Suite("WireDissector")
struct WireDissectorTests {
    @Test func channelDataOnlyAfterTurnIsSeen() {
        var h = Harness()
        let frame = channelData(0x4000, [0x80, 0x60, 1, 2, 3, 4])
        h.udp(client, server, frame)
        #expect(h.log.channelData.isEmpty)
        #expect(h.log.other.first?.payload.payloadClass == .turnChannel)
        h.udp(client, server, message(.allocate, .request) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        h.udp(server, client, frame)   // the other direction of the same 5-tuple counts too
        #expect(h.log.channelData.count == 1)
        #expect(h.log.channelData.first?.channel == 0x4000)
        #expect(h.log.channelData.first?.payload.payloadClass == .rtp)
        #expect(h.log.channelData.first?.carriesStunMessage == false)
    }

    @Test func turnServerPortsAllowChannelDataFromTheStart() {
        var h = Harness { $0.turnServerPorts.insert(80) }
        h.udp(client, server, channelData(0x4001, [1, 2, 3], padded: true))
        #expect(h.log.channelData.count == 1)
        var plain = Harness()
        plain.udp(client, "198.51.100.10:3478", channelData(0x4001, [1, 2, 3]))
        #expect(plain.log.channelData.count == 1)
    }

    @Test func nestedStunFollowsItsCarrierAndHashesPair() throws {
        var h = Harness()
        let check = message(.binding, .request, id: 9) {
            $0.add(.username, string: "a:b")
            $0.add(.priority, uint32: 1)
            $0.add(.iceControlling, uint64: 7)
        }
        h.udp(client, server, message(.allocate, .request))
        // Client leg: ChannelData carrying the check; peer leg: the same bytes as plain UDP.
        h.udp(client, server, channelData(0x4000, check, padded: true))
        h.udp(relay, peer, check)
        // And through a Send indication's DATA attribute.
        h.udp(client, server, message(.send, .indication, id: 3) {
            $0.add(.xorPeerAddress, address: Endpoint(peer)!, xor: true)
            $0.add(.data, check)
        })
        let stun = h.log.stun
        let nested = stun.filter { $0.carrier != nil }
        #expect(nested.count == 2)
        let inChannel = try #require(nested.first)
        #expect(inChannel.carrier?.kind == .channelData)
        #expect(inChannel.carrier?.channel == 0x4000)
        #expect(inChannel.carrier?.frame == 2)
        #expect(h.log.channelData.first?.carriesStunMessage == true)
        #expect(inChannel.message.iceControlling == 7)
        let inData = try #require(nested.last)
        #expect(inData.carrier?.kind == .dataAttribute)
        #expect(inData.carrier?.peer == Endpoint(peer))
        #expect(inData.carrier?.carrierType?.rawValue == 0x0016)
        // One hash for the same application payload on every leg.
        let channelHash = try #require(h.log.channelData.first?.payload.hash)
        let peerLeg = try #require(stun.first { $0.flow.source == Endpoint(relay) })
        let send = try #require(stun.first { $0.message.method == .send })
        #expect(channelHash == hash(check))
        #expect(peerLeg.payload.hash == channelHash)
        #expect(send.message.data?.hash == channelHash)
        #expect(inChannel.payload.hash == channelHash)
        // The carrier's line comes before the nested message's.
        let order = h.log.events.compactMap { event -> String? in
            switch event {
            case .channelData: return "cd"
            case let .stunMessage(e): return e.carrier == nil ? "stun" : "nested"
            default: return nil
            }
        }
        #expect(order == ["stun", "cd", "nested", "stun", "stun", "nested"])
    }

    @Test func channelDataSaysWhetherItCarriesAStunMessage() {
        var h = Harness()
        h.udp(client, server, message(.allocate, .request))
        let check = message(.binding, .request, id: 4) { $0.add(.priority, uint32: 1) }
        h.udp(client, server, channelData(0x4000, check))
        h.udp(client, server, channelData(0x4000, check + [1, 2, 3, 4]))          // malformed: reported as such
        h.udp(client, server, channelData(0x4000, [0x00, 0x01] + [UInt8](repeating: 0, count: 30)))  // STUN's first byte, not STUN
        h.udp(client, server, channelData(0x4000, [0x80, 0x60, 1, 2]))             // RTP
        #expect(h.log.channelData.map(\.carriesStunMessage) == [true, false, false, false])
        #expect(h.log.stun.filter { $0.carrier != nil }.map(\.carrier?.frame) == [2])
        #expect(h.log.malformed.map(\.carrier?.frame) == [3])
    }

    @Test func malformedIsReportedNotFatal() {
        var h = Harness()
        var bytes = message(.binding, .request) { $0.add(.username, string: "x") }
        bytes += [1, 2, 3, 4]
        h.udp(client, server, bytes)
        h.udp(client, server, message(.binding, .request, id: 2))
        #expect(h.log.malformed.count == 1)
        #expect(h.log.malformed.first?.partial?.username == "x")
        #expect(h.log.stun.count == 1)
    }

    @Test func otherTrafficIsClassified() {
        var h = Harness()
        h.udp(client, peer, [0x16, 0xfe, 0xfd] + [UInt8](repeating: 0, count: 30))
        h.udp(client, peer, [0x80, 0xc8, 0, 6] + [UInt8](repeating: 0, count: 24))
        h.udp(client, peer, [])
        #expect(h.log.other.map(\.payload.payloadClass) == [.dtls, .rtcp, .empty])
    }

    @Test func integrityThroughTheDissector() throws {
        let store = try CredentialStore(parsing: "alice:example.org:secret\n")
        var h = Harness(credentials: store)
        let key = StunKey.longTerm(user: "alice", realm: "example.org", password: "secret")
        h.udp(client, server, message(.allocate, .request, id: 5) {
            $0.add(.username, string: "alice")
            $0.add(.realm, string: "example.org")
            $0.addMessageIntegrity(key: key)
            $0.addFingerprint()
        })
        h.udp(server, client, message(.allocate, .success, id: 5) {
            $0.add(.lifetime, uint32: 600)
            $0.addMessageIntegrity(key: key)
        })
        #expect(h.log.stun.map(\.message.integrity) == [.valid, .valid])
        #expect(h.log.stun.first?.message.fingerprint == .valid)
    }

    @Test func icmpQuotedStun() throws {
        var h = Harness()
        let request = message(.binding, .request, id: 4)
        h.icmp(quoting: client, server, request)
        h.icmp(quoting: client, server, Array(message(.binding, .request, id: 5) { $0.add(.software, string: "long enough") }.prefix(24)))
        h.icmp(quoting: client, server, [1, 2, 3])
        let quoted = h.log.icmp.map(\.quotedMessage)
        #expect(quoted.count == 3)
        #expect(quoted[0]?.transactionID.hex == String(repeating: "04", count: 12))
        #expect(quoted[0]?.malformation == nil)
        #expect(quoted[1]?.malformation?.hasPrefix("truncated") == true)
        #expect(quoted[2] == nil)
    }

    @Test func turnFlowTableIsBounded() {
        var h = Harness { $0.maxKnownTurnFlows = 8 }
        for port in 0..<100 {
            h.udp("10.0.0.1:\(20_000 + port)", server, message(.allocate, .request, id: UInt8(port)))
        }
        #expect(h.dissector.statistics.turnFlowsEvicted > 0)
        // The newest flows are still known.
        h.udp(server, "10.0.0.1:20099", channelData(0x4000, [1, 2, 3, 4]))
        #expect(h.log.channelData.count == 1)
    }
}

@Suite("WireDissector over TCP")
struct WireDissectorTCPTests {
    let tcpClient = "192.168.77.10:40100"
    let tcpServer = "198.51.100.10:3478"

    @Test func messagesAcrossAndWithinSegments() {
        var h = Harness()
        h.tcpOpen(0, tcpClient, tcpServer)
        let a = message(.allocate, .request, id: 1) { $0.add(.software, string: "abc") }
        let b = message(.refresh, .request, id: 2)
        let stream = a + b + channelData(0x4000, [9, 9, 9, 9, 9], padded: true) + a
        h.tcp(0, tcpClient, tcpServer, Array(stream.prefix(7)))
        h.tcp(0, tcpClient, tcpServer, Array(stream[7..<50]))
        h.tcp(0, tcpClient, tcpServer, Array(stream[50...]))
        #expect(h.log.stun.map(\.message.method) == [.allocate, .refresh, .allocate])
        #expect(h.log.stun.allSatisfy { $0.tcpStream == 0 && $0.transport == .tcp })
        #expect(h.log.channelData.count == 1)
        // Frames are those of the segment that completed each message.
        #expect(h.log.stun.map(\.context.frame) == [3, 3, 4])
    }

    @Test func gapThenResynchronise() {
        var h = Harness()
        h.tcpOpen(1, tcpClient, tcpServer)
        let a = message(.allocate, .request, id: 1)
        h.tcp(1, tcpClient, tcpServer, a + Array(a.prefix(10)))
        h.tcpEvent(1, tcpClient, tcpServer, .gap(missingBytes: 100))
        h.tcp(1, tcpClient, tcpServer, [1, 2, 3] + a)
        #expect(h.log.stun.count == 2)
        #expect(h.log.skipped.first?.count == 13)
        #expect(h.log.skipped.first?.reason == .afterGap)
    }

    @Test func connectionBindTurnsTheStreamIntoData() {
        var h = Harness()
        h.tcpOpen(2, tcpClient, tcpServer)
        let bind = message(.connectionBind, .request, id: 7) { $0.add(.connectionID, uint32: 1) }
        let raw: [UInt8] = Array("GET / HTTP/1.1\r\n\r\n".utf8) + message(.binding, .request)
        h.tcp(2, tcpClient, tcpServer, bind + raw)
        #expect(h.log.stun.map(\.message.method) == [.connectionBind])
        #expect(h.log.other.map(\.payload.length) == [raw.count])
    }

    @Test func tlsIsNotStun() {
        var h = Harness()
        h.tcpOpen(3, tcpClient, "198.51.100.10:443")
        h.tcp(3, tcpClient, "198.51.100.10:443", [0x16, 0x03, 0x01, 0x02, 0x00] + [UInt8](repeating: 1, count: 40))
        #expect(h.log.stun.isEmpty)
        #expect(h.log.other.first?.payload.payloadClass == .tls)
    }

    @Test func closeFlushesAndForgets() {
        var h = Harness()
        h.tcpOpen(4, tcpClient, tcpServer)
        h.tcp(4, tcpClient, tcpServer, Array(message(.allocate, .request).prefix(12)))
        h.tcpEvent(4, tcpClient, tcpServer, .closed(reason: .fin))
        #expect(h.log.skipped.first?.reason == .truncated)
    }

    @Test func streamTableIsBounded() {
        var h = Harness { $0.maxTCPStreams = 4 }
        for stream in 0..<10 {
            h.tcpOpen(stream, "10.0.0.1:\(30_000 + stream)", tcpServer)
            h.tcp(stream, "10.0.0.1:\(30_000 + stream)", tcpServer, message(.allocate, .request, id: UInt8(stream)))
        }
        // Each time the table is full the oldest eighth (here: one stream) goes.
        #expect(h.dissector.statistics.tcpStreamsEvicted == 6)
        #expect(h.log.stun.count == 10)
    }
}

@Suite("WireDissector fuzz")
struct WireDissectorFuzzTests {
    @Test func randomTrafficNeverTraps() {
        var rng = SplitMix64(seed: 0xD15EC7)
        var h = Harness { $0.maxKnownTurnFlows = 16; $0.maxTCPStreams = 8 }
        let seeds: [[UInt8]] = [
            message(.allocate, .request) { $0.add(.data, message(.binding, .request)) },
            channelData(0x4000, message(.binding, .success), padded: true),
            message(.send, .indication) { $0.add(.data, channelData(0x4001, message(.binding, .request))) },
        ]
        for i in 0..<5_000 {
            var bytes: [UInt8]
            if i % 3 == 0 {
                bytes = (0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 0...3, using: &rng) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            }
            let port = 3000 + Int.random(in: 0...20, using: &rng)
            switch Int.random(in: 0...3, using: &rng) {
            case 0: h.udp("10.0.0.1:\(port)", "10.0.0.2:3478", bytes)
            case 1: h.udp("10.0.0.2:3478", "10.0.0.1:\(port)", bytes)
            case 2:
                let stream = Int.random(in: 0...12, using: &rng)
                if Int.random(in: 0...20, using: &rng) == 0 {
                    h.tcpEvent(stream, "10.0.0.1:\(port)", "10.0.0.2:3478", .gap(missingBytes: 10))
                }
                h.tcp(stream, "10.0.0.1:\(port)", "10.0.0.2:3478", bytes)
            default: h.icmp(quoting: "10.0.0.1:\(port)", "10.0.0.2:3478", bytes)
            }
        }
        h.dissector.finish()
        #expect(h.log.events.count >= 2_500)
    }
}
