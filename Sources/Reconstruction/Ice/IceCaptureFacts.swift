import NetworkVocabulary
import OrderedCollections

/// What the rest of the capture tells about the addresses ICE checks use,
/// gathered once before any session is summarised: what STUN servers
/// returned, the TURN allocations, and the signalled (SDP) candidates.
struct IceCaptureFacts {
    let mappings: StunMappings
    let relays: TurnRelays
    let signalling: SignalledCandidates
    let natMappings: NatMappingTable
    /// The capture's last packet: a pair checked more than a STUN timeout before it has failed.
    let end: CaptureTime
}

/// The NAT view of the Binding sessions, looked up by local and by reflexive
/// address: every ICE session asks about its own few addresses, and a scan of
/// the whole list per session made a busy server's summary quadratic (tens of
/// thousands of sessions times as many mappings). Lookups answer what the
/// first match of a scan in list order would.
struct NatMappingTable {
    let all: [NatMappingSummary]
    private let byLocal: [String: [Int]]
    private let byReflexive: [String: [Int]]

    init(_ all: [NatMappingSummary]) {
        var byLocal: [String: [Int]] = [:]
        var byReflexive: [String: [Int]] = [:]
        for (i, m) in all.enumerated() {
            byLocal[m.local, default: []].append(i)
            for o in m.observations where byReflexive[o.reflexive]?.last != i {
                byReflexive[o.reflexive, default: []].append(i)
            }
        }
        self.all = all
        self.byLocal = byLocal
        self.byReflexive = byReflexive
    }

    /// The mappings whose local address is one of `locals`, in list order.
    func mappings(ofLocals locals: Set<String>) -> [NatMappingSummary] {
        locals.flatMap { byLocal[$0] ?? [] }.sorted().map { all[$0] }
    }

    /// The mappings whose local address is `local`, in list order.
    func mappings(ofLocal local: String) -> [NatMappingSummary] {
        (byLocal[local] ?? []).map { all[$0] }
    }

    /// The mappings with an observation of `reflexive`, in list order.
    func mappings(seenAs reflexive: String) -> [NatMappingSummary] {
        (byReflexive[reflexive] ?? []).map { all[$0] }
    }
}

/// The reflexive addresses STUN servers (Binding responses) and TURN servers
/// (Allocate responses) returned to each local endpoint.
struct StunMappings {
    /// Per local endpoint, the distinct addresses servers saw it as. Locals are
    /// ordered by their first response (frame, then address), so explanations
    /// that pick one of several mappings pick the same one on every run.
    let byLocal: OrderedDictionary<Endpoint, [Endpoint]>
    /// The other way round: the locals a reflexive address was returned to.
    private let localsByReflexive: [Endpoint: [Endpoint]]
    /// Every reflexive address by its IP, in `byLocal`'s order (locals, then their mappings).
    private let reflexivesByIP: [IPAddress: [Endpoint]]
    /// The same for mappings seen after the NAT (the local was also seen as itself), with their local.
    private let afterNatByIP: [IPAddress: [(local: Endpoint, reflexive: Endpoint)]]

    init(_ observations: OrderedDictionary<Endpoint, [ReflexiveObservation]>) {
        let locals = observations.map { (local: $0.key, frame: $0.value.map(\.frame).min() ?? 0) }
            .sorted { ($0.frame, $0.local.description) < ($1.frame, $1.local.description) }.map(\.local)
        var byLocal: OrderedDictionary<Endpoint, [Endpoint]> = [:]
        var localsByReflexive: [Endpoint: [Endpoint]] = [:]
        for local in locals {
            for o in observations[local] ?? [] {
                if !(byLocal[local]?.contains(o.reflexive) ?? false) { byLocal[local, default: []].append(o.reflexive) }
                if !(localsByReflexive[o.reflexive]?.contains(local) ?? false) { localsByReflexive[o.reflexive, default: []].append(local) }
            }
        }
        var reflexivesByIP: [IPAddress: [Endpoint]] = [:]
        var afterNatByIP: [IPAddress: [(local: Endpoint, reflexive: Endpoint)]] = [:]
        for (local, maps) in byLocal {
            let afterNat = maps.contains(local)
            for m in maps {
                reflexivesByIP[m.address, default: []].append(m)
                if afterNat { afterNatByIP[m.address, default: []].append((local, m)) }
            }
        }
        self.byLocal = byLocal
        self.localsByReflexive = localsByReflexive
        self.reflexivesByIP = reflexivesByIP
        self.afterNatByIP = afterNatByIP
    }

    /// The first reflexive address any server returned on `e`'s IP with another port.
    func otherPort(of e: Endpoint) -> Endpoint? {
        reflexivesByIP[e.address]?.first { $0.port != e.port }
    }

    /// The first mapping seen after the NAT (its local was also seen as itself) on `e`'s IP with
    /// another port, given to a local other than `e`: another socket of the NAT's host.
    func afterNatOtherPort(of e: Endpoint) -> (local: Endpoint, reflexive: Endpoint)? {
        afterNatByIP[e.address]?.first { $0.reflexive.port != e.port && $0.local != e }
    }

    /// What servers saw `local` as (nil when no server answered it).
    subscript(local: Endpoint) -> [Endpoint]? { byLocal[local] }

    /// Whether a server saw `e` as another address, i.e. `e` is behind a NAT
    /// and seen here before it; nil when no server answered `e`.
    func isMappedByNat(_ e: Endpoint) -> Bool? {
        byLocal[e].map { $0.contains { $0 != e } }
    }

    /// A server saw `e` as itself: no NAT on its path to the server, or seen after the NAT.
    func sawUnchanged(_ e: Endpoint) -> Bool {
        byLocal[e]?.contains(e) == true
    }

    /// The first local endpoint other than `reflexive` itself that a server saw as `reflexive` (its base).
    func base(of reflexive: Endpoint) -> Endpoint? {
        localsByReflexive[reflexive]?.first { $0 != reflexive }
    }
}

/// The TURN allocations of the capture, by relayed address.
struct TurnRelays {
    let allocations: [TurnAllocation]
    private let byRelayed: [Endpoint: TurnAllocation]
    /// Positions in `allocations` per relayed address and per client IP: each ICE session
    /// looks up its own few addresses instead of scanning every allocation of the capture.
    private let indicesByRelayed: [Endpoint: [Int]]
    private let indicesByClientIP: [IPAddress: [Int]]
    /// TURN servers' addresses and relayed addresses' IPs.
    private let turnIPs: Set<IPAddress>

    init(_ allocations: [TurnAllocation]) {
        var byRelayed: [Endpoint: TurnAllocation] = [:]
        var indicesByRelayed: [Endpoint: [Int]] = [:]
        var indicesByClientIP: [IPAddress: [Int]] = [:]
        var ips = Set<IPAddress>()
        for (i, a) in allocations.enumerated() {
            ips.insert(a.flow.destination.address)
            indicesByClientIP[a.flow.source.address, default: []].append(i)
            for r in a.relayed {
                byRelayed[r] = a
                if indicesByRelayed[r]?.last != i { indicesByRelayed[r, default: []].append(i) }
                ips.insert(r.address)
            }
        }
        self.allocations = allocations
        self.byRelayed = byRelayed
        self.indicesByRelayed = indicesByRelayed
        self.indicesByClientIP = indicesByClientIP
        self.turnIPs = ips
    }

    /// The allocations, in capture order, that relay one of `endpoints` or were made from the IP
    /// of one of `clients`.
    func allocations(relayingAnyOf endpoints: some Sequence<Endpoint>, orFromHostOf clients: some Sequence<Endpoint>) -> [TurnAllocation] {
        var indices = Set<Int>()
        for e in endpoints { indices.formUnion(indicesByRelayed[e] ?? []) }
        for e in clients { indices.formUnion(indicesByClientIP[e.address] ?? []) }
        return indices.sorted().map { allocations[$0] }
    }

    /// The allocation whose relayed address `e` is.
    func allocation(relaying e: Endpoint) -> TurnAllocation? { byRelayed[e] }

    func isRelayed(_ e: Endpoint) -> Bool { byRelayed[e] != nil }

    func isOnTurnServer(_ ip: IPAddress) -> Bool { turnIPs.contains(ip) }

    /// On a TURN server's IP but not on a STUN port: most likely a relayed
    /// address of an allocation whose Allocate the capture missed.
    func looksRelayed(_ e: Endpoint) -> Bool {
        turnIPs.contains(e.address) && !WellKnownPorts.stunServer.contains(e.port)
    }
}

extension TurnAllocation {
    /// The client sent data toward a peer with a private address (channel or Send indication):
    /// the peer's candidates include a private one.
    var sentToPrivatePeer: Bool {
        channels.values.contains { $0.peer.address.isPrivate }
            || peers.contains { $0.key.address.isPrivate && $0.value.clientSentData }
    }

    /// The client bound a channel to `peer` or sent it data: it knew the address.
    func addressed(_ peer: Endpoint) -> Bool {
        if channels.values.contains(where: { $0.peer == peer }) { return true }
        return peers[peer]?.clientSentData ?? false
    }
}

extension PeerSummary {
    /// The client sent this peer data through the allocation (Send indications or ChannelData).
    var clientSentData: Bool { sendIndications > 0 || channelDataToServer > 0 }
}
