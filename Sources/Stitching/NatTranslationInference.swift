import NetworkVocabulary

/// One NAT binding seen from both of its sides: packets from `inside` to
/// `destination` left the NAT as `outside` (and answers came back the other way).
public struct NatTranslationKey: Hashable, Sendable {
    public var insideVantage: Int
    public var transport: TransportProtocol
    public var inside: Endpoint
    public var outside: Endpoint
    /// The far endpoint, as seen outside the NAT.
    public var destination: Endpoint
}

/// What the sightings showed of one translation.
public struct NatTranslationRecord: Sendable {
    public var key: NatTranslationKey
    public var outsideVantages: Set<Int> = []
    /// Packets that crossed it (outbound: source rewritten; inbound: destination rewritten).
    public var outbound = 0
    public var inbound = 0
    /// First outbound crossing on the reference clock (filtering asks what was sent before a drop).
    public var firstOutbound: Int64?
    public var firstTime: Int64
    /// First and last frame per vantage point.
    public var frames: [Int: (first: Int, last: Int)] = [:]

    mutating func saw(_ s: Sighting) {
        if let f = frames[s.vantage] {
            frames[s.vantage] = (min(f.first, s.frame), max(f.last, s.frame))
        } else {
            frames[s.vantage] = (s.frame, s.frame)
        }
    }
}

/// Reads NAT translations off packets seen on both sides of a NAT.
///
/// Two sightings of one packet whose flows differ in the source only were
/// source-translated between the two vantage points; in the destination only,
/// destination-translated (an answer coming back in). The inside is the side
/// with the private address (RFC 1918, RFC 6598, ULA); when both or neither
/// are private, the earlier sighting on the reference clock is the inside for
/// an outbound packet and the later for an inbound one. Flows differing on
/// both sides (two NATs between the vantage points) are left to the vantage
/// point between them.
public struct NatTranslationInference {
    public private(set) var records: [NatTranslationKey: NatTranslationRecord] = [:]

    public init() {}

    public mutating func add(_ packet: StitchedPacket, _ sightings: [Sighting], _ times: [Int64]) {
        let members = packet.sightings
        guard members.count > 1 else { return }
        for a in 0..<members.count {
            for b in (a + 1)..<members.count {
                let x = members[a], y = members[b]  // x is not later than y
                let fx = sightings[x].flow, fy = sightings[y].flow
                if fx.source != fy.source && fx.destination == fy.destination {
                    let xInside = Self.isInside(fx.source.address, fy.source.address, earlierIsInside: true)
                    let (i, o) = xInside ? (x, y) : (y, x)
                    record(insideSighting: i, outsideSighting: o, inside: sightings[i].flow.source, outside: sightings[o].flow.source,
                           destination: fx.destination, outbound: true, sightings, times)
                } else if fx.destination != fy.destination && fx.source == fy.source {
                    let xInside = Self.isInside(fx.destination.address, fy.destination.address, earlierIsInside: false)
                    let (i, o) = xInside ? (x, y) : (y, x)
                    record(insideSighting: i, outsideSighting: o, inside: sightings[i].flow.destination,
                           outside: sightings[o].flow.destination, destination: fx.source, outbound: false, sightings, times)
                }
            }
        }
    }

    /// Whether the first (earlier) sighting's address is the inside one.
    static func isInside(_ earlier: IPAddress, _ later: IPAddress, earlierIsInside: Bool) -> Bool {
        if earlier.isPrivate != later.isPrivate { return earlier.isPrivate }
        return earlierIsInside
    }

    private mutating func record(insideSighting i: Int, outsideSighting o: Int, inside: Endpoint, outside: Endpoint,
                                 destination: Endpoint, outbound: Bool, _ sightings: [Sighting], _ times: [Int64]) {
        let key = NatTranslationKey(insideVantage: sightings[i].vantage, transport: sightings[i].flow.transport,
                                    inside: inside, outside: outside, destination: destination)
        var r = records[key] ?? NatTranslationRecord(key: key, firstTime: times[i])
        if outbound {
            r.outbound += 1
            r.firstOutbound = min(r.firstOutbound ?? times[i], times[i])
        } else {
            r.inbound += 1
        }
        r.firstTime = min(r.firstTime, times[i])
        r.outsideVantages.insert(sightings[o].vantage)
        r.saw(sightings[i])
        r.saw(sightings[o])
        records[key] = r
    }

    /// The NATs the translations reveal: one per inside vantage point and outside address.
    public func nats() -> [NatBehaviour] {
        var grouped: [NatBehaviour.Identity: [NatTranslationRecord]] = [:]
        for r in records.values {
            grouped[NatBehaviour.Identity(insideVantage: r.key.insideVantage, outsideAddress: r.key.outside.address), default: []].append(r)
        }
        return grouped.map { NatBehaviour(identity: $0.key, translations: $0.value) }
            .sorted { ($0.identity.insideVantage, $0.identity.outsideAddress) < ($1.identity.insideVantage, $1.identity.outsideAddress) }
    }
}

/// RFC 4787 behaviour of one NAT, from its translations.
public struct NatBehaviour: Sendable {
    public struct Identity: Hashable, Sendable {
        public var insideVantage: Int
        public var outsideAddress: IPAddress
    }

    public enum Mapping: String, Sendable {
        case endpointIndependent = "endpoint-independent"
        case addressDependent = "address-dependent"
        case addressAndPortDependent = "address-and-port-dependent"
        case unknown
    }

    public var identity: Identity
    public var translations: [NatTranslationRecord]
    public var mapping: Mapping = .unknown
    /// Why: the inside endpoint and the destinations behind the verdict.
    public var mappingEvidence: String = ""
    /// Every outside port equals its inside port.
    public var portPreserving: Bool

    init(identity: Identity, translations: [NatTranslationRecord]) {
        self.identity = identity
        self.translations = translations.sorted { ($0.firstTime, $0.key.inside, $0.key.destination) < ($1.firstTime, $1.key.inside, $1.key.destination) }
        portPreserving = translations.allSatisfy { $0.key.inside.port == $0.key.outside.port }
        classifyMapping()
    }

    public var outsideVantages: Set<Int> { translations.reduce(into: Set<Int>()) { $0.formUnion($1.outsideVantages) } }

    private mutating func classifyMapping() {
        var byInside: [Endpoint: [NatTranslationRecord]] = [:]
        for t in translations { byInside[t.key.inside, default: []].append(t) }
        var independent: String? = nil
        var addressDependent: String? = nil
        for inside in byInside.keys.sorted() {
            let ts = byInside[inside]!
            for a in 0..<ts.count {
                for b in (a + 1)..<ts.count where ts[a].key.destination != ts[b].key.destination {
                    let x = ts[a].key, y = ts[b].key
                    let pair = "\(inside) -> \(x.destination) as \(x.outside), -> \(y.destination) as \(y.outside)"
                    if x.outside == y.outside {
                        independent = independent ?? pair
                    } else if x.destination.address == y.destination.address {
                        mapping = .addressAndPortDependent
                        mappingEvidence = pair + " (one destination address, two ports: a new mapping per destination port)"
                        return
                    } else {
                        addressDependent = addressDependent ?? pair
                    }
                }
            }
        }
        if let addressDependent {
            mapping = .addressDependent
            mappingEvidence = addressDependent + " (a new mapping per destination address; no two destinations on one address to test the port)"
        } else if let independent {
            mapping = .endpointIndependent
            mappingEvidence = independent + " (one mapping for different destinations)"
        } else {
            mappingEvidence = "no inside endpoint was seen towards two destinations"
        }
    }
}
