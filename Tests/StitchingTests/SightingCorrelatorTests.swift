import NetworkVocabulary
import StunWire
import Testing
@testable import Stitching

/// Sightings -> packets: the same bytes at two vantage points are one packet, twice at one
/// vantage point two packets; NAT translations and mapping behaviour read off the pairs.
@Suite struct SightingCorrelatorTests {
    static func ep(_ s: String) -> Endpoint { Endpoint(s)! }

    static func sighting(_ vantage: Int, _ frame: Int, _ ms: Int64, _ from: String, _ to: String, hash: UInt64) -> Sighting {
        let payload = PayloadSummary(length: 100, hash: hash, payloadClass: .rtp)
        return Sighting(vantage: vantage, frame: frame, time: CaptureTime(nanoseconds: ms * 1_000_000),
                        flow: FiveTuple(source: ep(from), destination: ep(to), transport: .udp),
                        key: PacketKey(kind: .other, transport: .udp, payload: payload),
                        label: PacketLabel(payloadClass: .rtp, length: 100))
    }

    static func packets(_ s: [Sighting]) -> [StitchedPacket] {
        SightingCorrelator.correlate(s, correctedTimes: s.map(\.time.nanoseconds), window: 2_000_000_000)
    }

    @Test func sameBytesTwiceAtOnePointAreTwoPacketsAndALostCopyShiftsNothing() {
        // Identical payload sent three times 20 ms apart; the second copy never reached vantage 1.
        let s = [
            Self.sighting(0, 1, 0, "10.0.0.1:5000", "198.51.100.9:3478", hash: 7),
            Self.sighting(1, 1, 1, "203.0.113.2:5000", "198.51.100.9:3478", hash: 7),
            Self.sighting(0, 2, 20, "10.0.0.1:5000", "198.51.100.9:3478", hash: 7),
            Self.sighting(0, 3, 40, "10.0.0.1:5000", "198.51.100.9:3478", hash: 7),
            Self.sighting(1, 2, 41, "203.0.113.2:5000", "198.51.100.9:3478", hash: 7),
        ]
        let p = Self.packets(s)
        #expect(p.map(\.sightings) == [[0, 1], [2], [3, 4]])
    }

    @Test func unrelatedFlowsWithTheSameBytesAreNotOnePacket() {
        let s = [
            Self.sighting(0, 1, 0, "10.0.0.1:5000", "198.51.100.9:3478", hash: 7),
            Self.sighting(1, 1, 1, "192.0.2.1:6000", "192.0.2.2:7000", hash: 7),
        ]
        #expect(Self.packets(s).count == 2)
    }

    @Test func translationsAndMappingBehaviour() {
        // Inside 10.0.0.1:5000 goes out as 203.0.113.2:40000 towards two ports of one server
        // address (a new port for the second: address-and-port-dependent mapping); the answer
        // comes back in.
        let s = [
            Self.sighting(0, 1, 0, "10.0.0.1:5000", "198.51.100.9:3478", hash: 1),
            Self.sighting(1, 1, 1, "203.0.113.2:40000", "198.51.100.9:3478", hash: 1),
            Self.sighting(1, 2, 5, "198.51.100.9:3478", "203.0.113.2:40000", hash: 2),
            Self.sighting(0, 2, 6, "198.51.100.9:3478", "10.0.0.1:5000", hash: 2),
            Self.sighting(0, 3, 10, "10.0.0.1:5000", "198.51.100.9:3479", hash: 3),
            Self.sighting(1, 3, 11, "203.0.113.2:40001", "198.51.100.9:3479", hash: 3),
        ]
        var inference = NatTranslationInference()
        let times = s.map(\.time.nanoseconds)
        for p in Self.packets(s) { inference.add(p, s, times) }
        let first = NatTranslationKey(insideVantage: 0, transport: .udp, inside: Self.ep("10.0.0.1:5000"),
                                      outside: Self.ep("203.0.113.2:40000"), destination: Self.ep("198.51.100.9:3478"))
        #expect(inference.records.count == 2)
        #expect(inference.records[first]?.outbound == 1)
        #expect(inference.records[first]?.inbound == 1)
        #expect(inference.records[first]?.frames[1]?.first == 1 && inference.records[first]?.frames[1]?.last == 2)
        let nats = inference.nats()
        #expect(nats.count == 1)
        #expect(nats[0].identity.outsideAddress == IPAddress("203.0.113.2")!)
        #expect(nats[0].mapping == .addressAndPortDependent)
        #expect(!nats[0].portPreserving)
    }
}
