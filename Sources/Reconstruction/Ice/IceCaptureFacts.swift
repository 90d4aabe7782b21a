import NetworkVocabulary
import OrderedCollections

/// What the rest of the capture tells about the addresses ICE checks use,
/// gathered once before any session is summarised: what STUN servers
/// returned, the TURN allocations, and the signalled (SDP) candidates.
struct IceCaptureFacts {
    let mappings: StunMappings
    let relays: TurnRelays
    let signalling: SignalledCandidates
    let natMappings: [NatMappingSummary]
    /// The capture's last packet: a pair checked more than a STUN timeout before it has failed.
    let end: CaptureTime
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
        self.byLocal = byLocal
        self.localsByReflexive = localsByReflexive
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
    /// TURN servers' addresses and relayed addresses' IPs.
    private let turnIPs: Set<IPAddress>

    init(_ allocations: [TurnAllocation]) {
        var byRelayed: [Endpoint: TurnAllocation] = [:]
        var ips = Set<IPAddress>()
        for a in allocations {
            ips.insert(a.flow.destination.address)
            for r in a.relayed {
                byRelayed[r] = a
                ips.insert(r.address)
            }
        }
        self.allocations = allocations
        self.byRelayed = byRelayed
        self.turnIPs = ips
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
