import NetworkVocabulary
import OrderedCollections

extension IceSessionContext {
    /// Candidates listed per session at most (a flood of addresses stays bounded).
    static let maxCandidates = 512

    /// Each agent's candidates (RFC 8445 section 5.1.1): what its SDP signalled,
    /// the bases and peer-visible addresses its pairs show, the mappings STUN
    /// servers returned to its bases, and the relayed addresses of its TURN allocations.
    func candidateList(notes: inout ClassificationNotes) -> [IceCandidateSummary] {
        var list = CandidateList(checked: checkedAddresses)
        for owner in session.hasTwoAgents ? [roles.local, roles.remote] : [.first] {
            let ufrag = session.ufrag(of: owner)!
            // Signalled candidates first: they are what the agent said it had.
            for d in facts.signalling.descriptions(of: ufrag) {
                for c in d.candidates {
                    // An ICE-TCP active candidate (port 9) is used from an ephemeral port of its address.
                    let activeUsed = c.isActiveTcp
                        && pairs.contains { $0.key.transport == .tcp && $0.key.address(of: owner).address == c.endpoint?.address }
                    let address = c.endpoint?.description ?? c.address
                    var sum = IceCandidateSummary(address: address, type: c.type, source: .signalled, agent: ufrag,
                                                  transport: c.transport, priority: c.priority, foundation: c.foundation,
                                                  relatedAddress: c.related, checked: list.wasChecked(address) || activeUsed)
                    sum.explanation = "signalled in \(d.source)"
                    list.add(sum)
                }
            }
            for p in pairs {
                observedCandidates(on: p, owner: owner, ufrag: ufrag, into: &list, notes: &notes)
            }
            // STUN-server mappings and TURN allocations of the owner's bases.
            for base in addresses[owner] {
                for m in facts.mappings[base] ?? [] where m != base {
                    var c = IceCandidateSummary(address: m.description, type: .srflx, source: .observed, agent: ufrag,
                                                relatedAddress: base.description, checked: list.wasChecked(m.description))
                    c.explanation = "a STUN server returned it to \(base)"
                    list.add(c)
                }
            }
            for a in facts.relays.allocations(relayingAnyOf: addresses[owner], orFromHostOf: ownHosts(owner)) {
                for r in a.relayed {
                    var c = IceCandidateSummary(address: r.description, type: .relay, source: .observed, agent: ufrag,
                                                relatedAddress: a.mapped?.description, checked: list.wasChecked(r.description))
                    c.explanation = "relayed address of TURN allocation \(a.id)"
                    list.add(c)
                }
            }
        }
        return list.candidates
    }

    /// What one pair shows of the owner's candidates: its base (a host or
    /// relayed address the checks come from), and the address its peer addressed.
    private func observedCandidates(on p: IcePairState, owner: AgentSide, ufrag: String, into list: inout CandidateList,
                                    notes: inout ClassificationNotes) {
        let wire = p.key.address(of: owner)
        let transport = p.key.transport.description
        let own = ownType(p, owner: owner)
        // The wire address is the owner's base unless it is the NAT's mapping of it.
        let base = ownCandidate(p, owner: owner)
        let isBase = base == wire
        if let base {
            var c = IceCandidateSummary(address: base.description, type: own, source: .observed, agent: ufrag,
                                        transport: transport, checked: list.wasChecked(base.description) || isBase)
            c.explanation = own == .relay ? "the owner's TURN relayed address"
                : isBase ? "the address the owner's checks come from (its base)"
                : "the owner's base behind its NAT's mapping \(wire)"
            list.add(c)
        }
        guard session.hasTwoAgents else { return }
        let viewer = owner.other
        let view = viewType(p, owner: owner, viewer: viewer)
        notes.record(view)
        if let x = view.address, view.type != .unknown {
            var c = IceCandidateSummary(address: x.description, type: view.type, reason: view.reason, source: .observed,
                                        agent: ufrag, transport: transport, checked: list.wasChecked(x.description))
            c.explanation = view.explanation
            if view.type == .prflx { c.learntBy = session.ufrag(of: viewer) }
            if view.type == .srflx, let base = facts.mappings.base(of: x) { c.relatedAddress = base.description }
            list.add(c)
        } else if !isBase {
            var c = IceCandidateSummary(address: wire.description, type: .unknown, reason: view.reason, source: .observed,
                                        agent: ufrag, transport: transport, checked: true)
            c.explanation = view.explanation
            list.add(c)
        }
    }

    /// Every address a check or response used: the pairs' sides and the XOR-MAPPED-ADDRESSes.
    private var checkedAddresses: Set<String> {
        var checked = Set<String>()
        for p in pairs {
            checked.insert(p.key.e0.description)
            checked.insert(p.key.e1.description)
            for d in p.dir { if let m = d.mapped { checked.insert(m.description) } }
        }
        return checked
    }

    /// The owner's bases whose host (IP) makes an allocation from it the owner's own: not relayed
    /// addresses, and behind a NAT (a server saw them as another address; without a server's
    /// answer, a private address).
    private func ownHosts(_ owner: AgentSide) -> [Endpoint] {
        addresses[owner].filter { e in
            !facts.relays.isRelayed(e) && facts.mappings.isMappedByNat(e) ?? e.address.isPrivate
        }
    }
}

/// A session's candidates by address, in the order first listed.
private struct CandidateList {
    private var byAddress: OrderedDictionary<String, IceCandidateSummary> = [:]
    private let checked: Set<String>

    init(checked: Set<String>) { self.checked = checked }

    var candidates: [IceCandidateSummary] { Array(byAddress.values) }

    func wasChecked(_ address: String) -> Bool { checked.contains(address) }

    /// Lists a candidate once per address: a later signalled one replaces an
    /// observed one (signalled facts win), except that a prflx stays prflx.
    mutating func add(_ c: IceCandidateSummary) {
        if let listed = byAddress[c.address] {
            if c.source == .signalled && listed.source != .signalled && listed.type != .prflx {
                var merged = c
                merged.checked = listed.checked || c.checked
                byAddress[c.address] = merged
            }
            return
        }
        guard byAddress.count < IceSessionContext.maxCandidates else { return }
        byAddress[c.address] = c
    }
}
