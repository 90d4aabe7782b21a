import NetworkVocabulary
import StunWire
import Testing
@testable import Stitching

/// The NTP-style bound: a transaction seen at two vantage points puts the offset between
/// the request's and the answer's time differences.
@Suite struct ClockOffsetEstimatorTests {
    static let client = Endpoint(IPAddress("10.0.0.1")!, 5000)
    static let server = Endpoint(IPAddress("198.51.100.1")!, 3478)

    func sighting(_ vantage: Int, _ frame: Int, _ ns: Int64, _ id: UInt64, _ cls: StunMessageClass, hash: UInt64) -> Sighting {
        var message = StunMessage(type: StunMessageType(method: .binding, messageClass: cls), transactionID: StunTransactionID(high: 0, low: id, isClassic: false))
        message.attributes = []
        let flow = cls == .request ? FiveTuple(source: Self.client, destination: Self.server, transport: .udp)
            : FiveTuple(source: Self.server, destination: Self.client, transport: .udp)
        let payload = PayloadSummary(length: 20, hash: hash, payloadClass: .stun)
        return Sighting(vantage: vantage, frame: frame, time: CaptureTime(nanoseconds: ns), flow: flow,
                        key: PacketKey(kind: .stun, transport: .udp, payload: payload),
                        label: PacketLabel(stun: StunSummary(message), payloadClass: .stun, length: 20))
    }

    @Test func offsetLiesBetweenRequestAndAnswerDifferences() {
        // Vantage 1's clock is 5 s ahead; the hop from 0 to 1 takes 2 ms out and 3 ms back.
        let shift: Int64 = 5_000_000_000
        var a: [Sighting] = [], b: [Sighting] = []
        for k in 0..<4 {
            let t0 = Int64(k) * 1_000_000_000
            a.append(sighting(0, 2 * k + 1, t0, UInt64(k), .request, hash: UInt64(100 + k)))
            b.append(sighting(1, 2 * k + 1, t0 + 2_000_000 + shift, UInt64(k), .request, hash: UInt64(100 + k)))
            b.append(sighting(1, 2 * k + 2, t0 + 10_000_000 + shift, UInt64(k), .success, hash: UInt64(200 + k)))
            a.append(sighting(0, 2 * k + 2, t0 + 13_000_000, UInt64(k), .success, hash: UInt64(200 + k)))
        }
        let offsets = ClockOffsetEstimator.estimate([a[...], b[...]])
        let o = try! #require(offsets[1])
        // Interval [shift - 3 ms, shift + 2 ms]: middle shift - 0.5 ms, half-width 2.5 ms.
        #expect(o.offset == shift - 500_000)
        #expect(o.uncertainty == 2_500_000)
        #expect(abs(o.offset - shift) <= o.uncertainty)
        #expect(o.transactions == 4)
        #expect(offsets[0]?.offset == 0)
    }

    @Test func retransmittedRequestsDoNotCount() {
        var a: [Sighting] = [], b: [Sighting] = []
        a.append(sighting(0, 1, 0, 7, .request, hash: 1))
        a.append(sighting(0, 2, 500_000_000, 7, .request, hash: 1))
        b.append(sighting(1, 1, 1_000, 7, .request, hash: 1))
        b.append(sighting(1, 2, 500_001_000, 7, .request, hash: 1))
        b.append(sighting(1, 3, 500_002_000, 7, .success, hash: 2))
        a.append(sighting(0, 3, 500_003_000, 7, .success, hash: 2))
        #expect(ClockOffsetEstimator.estimate([a[...], b[...]])[1] == nil)
    }
}
