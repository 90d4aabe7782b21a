import NetworkVocabulary

/// Where a packet was last seen when a vantage point on its way did not see it.
public struct PacketLoss: Sendable, Equatable {
    /// The last vantage point that saw it.
    public var after: Int
    /// The vantage point that should have seen it next.
    public var expectedAt: Int
    /// The NAT between the two, when the loss is at a NAT.
    public var nat: NatBehaviour.Identity?
}

/// Per-packet paths: which vantage point follows which, the delay of each
/// hop, and where a packet that did not arrive was lost.
///
/// A packet is only called lost where the path is known: (1) arriving at a
/// NAT's outside address on the outside and never seen on the inside; (2)
/// leaving a NAT's inside for an address not on that inside network and never
/// seen outside; (3) on a hop between two vantage points that the packets to
/// the same address took (at least `minimumHopEvidence` times, and most of
/// the time). The vantage point that should have seen it must have been
/// capturing then: after its first packet and `margin` before its last (two
/// captures are rarely stopped at the same instant). Anything else is "seen
/// only at", never "lost".
public struct PacketPathAnalysis {
    public struct Hop: Hashable, Sendable {
        public var from: Int
        public var to: Int
    }

    public static let minimumHopEvidence = 3
    /// 200 ms plus twice the largest clock uncertainty (set by the stitcher).
    let margin: Int64

    let sightings: [Sighting]
    let times: [Int64]
    let nats: [NatBehaviour]
    /// Corrected first and last time per vantage.
    let spans: [(first: Int64, last: Int64)]
    /// (vantage, destination address) -> next vantage -> packets.
    private(set) var next: [VantageAddress: [Int: Int]] = [:]
    /// Private addresses seen as NAT inside endpoints, per inside vantage.
    private var insideAddresses: [Int: Set<IPAddress>] = [:]

    struct VantageAddress: Hashable {
        var vantage: Int
        var address: IPAddress
    }

    public init(sightings: [Sighting], times: [Int64], packets: [StitchedPacket], nats: [NatBehaviour], spans: [(first: Int64, last: Int64)],
                clockUncertainty: Int64 = 0) {
        margin = 200_000_000 &+ 2 &* clockUncertainty
        self.sightings = sightings
        self.times = times
        self.nats = nats
        self.spans = spans
        for nat in nats {
            for t in nat.translations { insideAddresses[nat.identity.insideVantage, default: []].insert(t.key.inside.address) }
        }
        for p in packets {
            for (a, b) in zip(p.sightings, p.sightings.dropFirst()) where sightings[a].flow == sightings[b].flow {
                next[VantageAddress(vantage: sightings[a].vantage, address: sightings[a].flow.destination.address), default: [:]][sightings[b].vantage, default: 0] += 1
            }
        }
    }

    /// Consecutive sightings (reference-clock order) with their delay in nanoseconds.
    public func hops(of packet: StitchedPacket) -> [(hop: Hop, delay: Int64)] {
        zip(packet.sightings, packet.sightings.dropFirst()).map { a, b in
            (Hop(from: sightings[a].vantage, to: sightings[b].vantage), times[b] &- times[a])
        }
    }

    /// Where the packet was lost, if the path says it should have been seen somewhere it was not.
    public func loss(of packet: StitchedPacket) -> PacketLoss? {
        let seen = Set(packet.sightings.map { sightings[$0].vantage })
        for i in packet.sightings.reversed() {
            let s = sightings[i]
            let destination = s.flow.destination.address
            for nat in nats {
                let inside = nat.identity.insideVantage
                guard !seen.contains(inside) else { continue }
                // (1) Inbound to the NAT's outside address.
                if destination == nat.identity.outsideAddress, nat.outsideVantages.contains(s.vantage), capturing(inside, at: times[i]) {
                    return PacketLoss(after: s.vantage, expectedAt: inside, nat: nat.identity)
                }
            }
            // (2) Outbound from a NAT's inside, towards an address that is not on that inside network.
            for nat in nats where nat.identity.insideVantage == s.vantage && !onInsideNetwork(destination, of: s.vantage) {
                let outside = nat.outsideVantages.subtracting(seen)
                guard outside.count == nat.outsideVantages.count,
                      let expected = primaryOutside(of: nat), capturing(expected, at: times[i]) else { continue }
                return PacketLoss(after: s.vantage, expectedAt: expected, nat: nat.identity)
            }
            // (3) A hop the packets to this address took.
            if let hops = next[VantageAddress(vantage: s.vantage, address: destination)] {
                let total = hops.values.reduce(0, +)
                if let (to, count) = hops.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) }),
                   count >= Self.minimumHopEvidence, count * 2 > total, !seen.contains(to), capturing(to, at: times[i]) {
                    return PacketLoss(after: s.vantage, expectedAt: to, nat: nil)
                }
            }
        }
        return nil
    }

    func capturing(_ vantage: Int, at time: Int64) -> Bool {
        let span = spans[vantage]
        return time >= span.first && time <= span.last &- margin
    }

    func onInsideNetwork(_ address: IPAddress, of vantage: Int) -> Bool {
        guard address.isPrivate else { return false }
        guard let known = insideAddresses[vantage] else { return false }
        if known.contains(address) { return true }
        // Same /24 as a known inside host (IPv4), or same /64 (IPv6).
        return known.contains { Self.sameSubnet($0, address) }
    }

    static func sameSubnet(_ a: IPAddress, _ b: IPAddress) -> Bool {
        switch (a, b) {
        case let (.v4(x), .v4(y)): return x >> 8 == y >> 8
        case let (.v6(xh, _), .v6(yh, _)): return xh == yh
        default: return false
        }
    }

    /// The outside vantage point that saw most of the NAT's translated packets.
    func primaryOutside(of nat: NatBehaviour) -> Int? {
        var counts: [Int: Int] = [:]
        for t in nat.translations {
            for v in t.outsideVantages { counts[v, default: 0] += t.outbound + t.inbound }
        }
        return counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
    }
}
