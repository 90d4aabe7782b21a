import NetworkVocabulary

// Candidate types the way ICE assigns them (RFC 8445 sections 5.1.1, 7.2.5.3.1,
// 7.3.1.3). The sender of a check uses its base, so a pair's own side is `host`
// or `relay` to its owner (`ownType`). To the peer, the side is the address it
// addressed, known from the XOR-MAPPED-ADDRESS of the responses (`viewType`):
// `relay` when it is a TURN relayed address, `srflx` when a STUN server returned
// it, `host` when it is the owner's own address, and `prflx` when no candidate
// had it.

/// The type of one agent's address on one pair, and how it was decided.
struct Classified {
    /// What the capture leaves open about this classification (reported in the session's visibility notes).
    enum Uncertainty {
        /// A STUN server saw the address unchanged: srflx behind a NAT, or host without one.
        case srflxOrHost
        /// No signalling or STUN/TURN exchange of the owner: the type follows from the address.
        case typeInferred
    }

    var type: CandidateType
    var reason: PrflxReason?
    var explanation: String
    var address: Endpoint?
    var uncertainty: Uncertainty?
}

/// The addresses whose classification stayed uncertain, over a whole session.
struct ClassificationNotes {
    private(set) var srflxOrHost = Set<String>()
    private(set) var typeInferred = Set<String>()

    mutating func record(_ c: Classified) {
        guard let address = c.address?.description else { return }
        switch c.uncertainty {
        case .srflxOrHost: srflxOrHost.insert(address)
        case .typeInferred: typeInferred.insert(address)
        case nil: break
        }
    }
}

extension IceSessionContext {
    /// The owner's own candidate type for its side of a pair: the base of a
    /// check is a host candidate, or a relayed address when sent through TURN.
    func ownType(_ p: IcePairState, owner: AgentSide) -> CandidateType {
        let e = p.key.address(of: owner)
        if p.isRelayed(owner) || facts.relays.isRelayed(e) || facts.relays.looksRelayed(e) { return .relay }
        if let signalled = facts.signalling[e], signalled.mayBelong(to: session.ufrag(of: owner)) {
            return signalled.candidate.type == .relay ? .relay : .host
        }
        return .host
    }

    /// Whether `e`, one of the owner's wire addresses, is its base (its own
    /// host or relayed address) rather than a NAT's mapping of it: relayed,
    /// private, seen before the NAT (a STUN server saw it as another address),
    /// or public with nothing showing a NAT in front of the owner (RFC 8445
    /// section 5.1.3: a srflx candidate equal to its base is redundant, so
    /// the address is the host candidate).
    func isOwnBase(_ e: Endpoint, owner: AgentSide) -> Bool {
        if facts.relays.isRelayed(e) || facts.relays.looksRelayed(e) { return true }
        if let signalled = facts.signalling[e], signalled.mayBelong(to: session.ufrag(of: owner)) {
            return signalled.candidate.type == .host || signalled.candidate.type == .relay
        }
        if facts.mappings.isMappedByNat(e) == true || e.address.isPrivate { return true }
        // A STUN server saw it unchanged: the host of an agent without NAT, or its NAT's mapping seen
        // after the NAT; nothing here tells them apart, and most agents that ask a STUN server sit
        // behind a NAT, so it is taken for the mapping (reported as srflx, with a visibility note).
        if facts.mappings.base(of: e) != nil || facts.mappings.sawUnchanged(e) { return false }
        return !ownerHasPrivateAddress(owner)
    }

    /// The owner's candidate behind its side of a pair (the base its checks
    /// are sent from): the wire address when it is the base, the host address
    /// behind the NAT's mapping when a STUN server or the SDP (raddr) shows
    /// it, nil when this vantage point does not.
    func ownCandidate(_ p: IcePairState, owner: AgentSide) -> Endpoint? {
        let wire = p.key.address(of: owner)
        if p.isRelayed(owner) || isOwnBase(wire, owner: owner) { return wire }
        if let base = facts.mappings.base(of: wire) { return base }
        if let signalled = facts.signalling[wire], signalled.mayBelong(to: session.ufrag(of: owner)),
           let related = signalled.candidate.related.flatMap(Endpoint.init) {
            return related
        }
        return nil
    }

    /// The owner's address as its peer (the viewer) addressed it, and that address's candidate type.
    func viewType(_ p: IcePairState, owner: AgentSide, viewer: AgentSide) -> Classified {
        let wire = p.key.address(of: owner)
        if p.isRelayed(owner) || facts.relays.isRelayed(wire) {
            return Classified(type: .relay, explanation: "the check went through the owner's TURN allocation: a relayed address",
                              address: wire)
        }
        // What the peer addressed: the XOR-MAPPED-ADDRESS of its responses (RFC 8445 7.2.5.3.1).
        let mapped = p.checks(from: owner).mapped
        var addressed = mapped
        var assumed = false
        if addressed == nil {
            if facts.mappings.isMappedByNat(wire) == true {
                // Seen before the owner's NAT: the peer addressed its mapping, when there is only one.
                let others = facts.mappings[wire]?.filter { $0 != wire } ?? []
                if others.count == 1 {
                    addressed = others[0]
                    assumed = true
                }
            } else {
                addressed = wire
            }
        }
        guard let x = addressed else {
            return Classified(type: .unknown, explanation: "no response to the owner's checks was seen, and the owner's address before NAT does not say what the peer addressed")
        }
        var c = classify(x, owner: owner, viewer: viewer, wire: wire)
        if c.type == .prflx, mapped == nil, session.contact(of: viewer, with: x)?.firstSent == nil {
            // Nothing shows that the peer got this check (no response, no check back): it cannot have learnt it.
            c.type = .unknown
            c.explanation = "would be peer-reflexive, but nothing shows that its peer received the check (no response, no check back): " + c.explanation
        }
        if assumed {
            c.explanation += " (assumed: no response to the owner's checks seen, so the peer's view is taken to be the STUN server's mapping)"
        }
        return c
    }

    /// The type of `x`, the owner's address as the viewer addressed it (`wire`: as the capture shows it).
    private func classify(_ x: Endpoint, owner: AgentSide, viewer: AgentSide, wire: Endpoint) -> Classified {
        let ownerUfrag = session.ufrag(of: owner)
        let signalled = facts.signalling[x]
        if let a = facts.relays.allocation(relaying: x) {
            return Classified(type: .relay, explanation: "relayed address of TURN allocation \(a.id)", address: x)
        }
        if facts.relays.looksRelayed(x), signalled == nil {
            return Classified(type: .relay, explanation: "on the address of a TURN server seen in this capture (its allocation was not seen)",
                              address: x)
        }
        if let signalled, signalled.mayBelong(to: ownerUfrag) || !session.ufrags.contains(signalled.ufrag ?? "") {
            return Classified(type: signalled.candidate.type, explanation: "signalled in \(signalled.source)", address: x)
        }
        if x == wire, let active = facts.signalling.activeTcpCandidate(on: x.address, owner: ownerUfrag),
           session.transports.contains(.tcp) {
            return Classified(type: active.candidate.type, explanation: "an ICE-TCP active candidate signalled in \(active.source) (port 9: it connects from an ephemeral port)", address: x)
        }
        // With the owner's SDP known, an address it did not signal was not a srflx candidate of it.
        let ownerSignalled = ownerUfrag.map { !facts.signalling.descriptions(of: $0).isEmpty } ?? false
        if let base = facts.mappings.base(of: x), !ownerSignalled {
            return Classified(type: .srflx, explanation: "a STUN server returned it to \(base) (server-reflexive)", address: x)
        }
        if x == wire || addresses[owner].contains(x), facts.mappings.base(of: x) == nil, isOwnBase(x, owner: owner) {
            if x.address.isPrivate {
                return Classified(type: .host, explanation: "the owner's own (private) address, reached directly", address: x)
            }
            return Classified(type: .host, explanation: "the owner's own public address (nothing shows a NAT in front of it), reached directly", address: x)
        }
        if facts.mappings.sawUnchanged(x), !ownerSignalled {
            if ownerHasPrivateAddress(owner) {
                return Classified(type: .srflx, explanation: "a STUN server returned this address as its own mapping; the owner also has private addresses, so it is behind a NAT and this is its server-reflexive address", address: x)
            }
            // Seen after the NAT, or no NAT at all: the two look the same from here.
            return Classified(type: .srflx, explanation: "a STUN server returned this address as its own mapping: the server-reflexive address of a host behind NAT, or (if the owner has no NAT) also its host address; this vantage point cannot tell which",
                              address: x, uncertainty: .srflxOrHost)
        }
        if viewerKnewBeforehand(viewer, address: x) {
            let (type, why): (CandidateType, String)
            if facts.relays.isOnTurnServer(x.address) {
                (type, why) = (.relay, "on a TURN server's address")
            } else if x.address.isPrivate {
                (type, why) = (.host, "a private address")
            } else if ownerSignalled {
                (type, why) = (.unknown, "a public address the owner's SDP did not signal (trickled later?)")
            } else if ownerHasPrivateAddress(owner) {
                (type, why) = (.srflx, "a public address of an agent that also has private addresses (behind NAT)")
            } else {
                (type, why) = (.host, "a public address of an agent with no private address")
            }
            return Classified(type: type, explanation: "signalled (its peer checked it before any check came from it); type inferred: " + why,
                              address: x, uncertainty: .typeInferred)
        }
        let (reason, why) = prflxReason(x, owner: owner, wire: wire)
        let learntFrom = x == wire ? "a check that came from \(x), which no candidate had"
            : "the XOR-MAPPED-ADDRESS \(x) of a check response, which no candidate had"
        var explanation = "peer-reflexive, learnt by \(session.ufrag(of: viewer) ?? "?") from \(learntFrom): \(why)"
        if let ownerUfrag { explanation += " (owner \(ownerUfrag))" }
        return Classified(type: .prflx, reason: reason, explanation: explanation, address: x)
    }

    /// Why a check came from an address no candidate had (RFC 8445 sections 7.2.5.3.1 and 7.3.1.3).
    private func prflxReason(_ x: Endpoint, owner: AgentSide, wire: Endpoint) -> (PrflxReason, String) {
        // The owner's base and what the STUN server made of it. Only the pair's
        // own base counts: another socket of the same host has its own mappings.
        if let maps = facts.mappings[wire]?.filter({ $0 != x }) {
            if let m = maps.first(where: { $0.address == x.address }) {
                return (.symmetricNat, "the owner's NAT mapped \(wire) to \(m) toward the STUN server but to \(x) toward its peer: address-dependent (symmetric) mapping, so the signalled srflx candidate did not match")
            }
            if let m = maps.first {
                if x.address.isPrivate {
                    return (.nestedNat, "the STUN server saw \(wire) as \(m), but the peer saw \(x), a private address: the agents sit behind different levels of NAT and the check only crossed the inner one")
                }
                return (.symmetricNat, "the STUN server saw \(wire) as \(m), the peer saw \(x): the NAT path to the peer maps differently")
            }
        }
        // Same NAT address as a STUN mapping seen for some host, another port.
        // Only mappings seen after the NAT (local == mapping): their base may be the same socket.
        if let (local, m) = facts.mappings.afterNatOtherPort(of: x) {
            return (.symmetricNat, "the NAT at \(x.address) gave \(local) the mapping \(m) toward the STUN server; the check came from port \(x.port): the NAT maps each destination to a new port (symmetric)")
        }
        if x.address.isPrivate && !addresses[owner].contains(x) {
            return (.nestedNat, "a private address that is not the owner's host address: an inner NAT between the agents (different NAT levels)")
        }
        if ownerHasPrivateAddress(owner) {
            return (.unknownNat, "the owner is behind a NAT (it has private addresses) and the peer had no candidate for this mapping: a NAT it did not know about, or a symmetric NAT whose srflx candidate did not match")
        }
        return (.unsignalled, "the address was not among the candidates the peer checked before (not signalled, or signalled after the check)")
    }

    /// The owner has a private address, so it sits behind a NAT: one of its
    /// own addresses, a peer its peer's TURN allocation sent to, or a signalled candidate.
    func ownerHasPrivateAddress(_ owner: AgentSide) -> Bool {
        if addresses[owner].contains(where: { $0.address.isPrivate && !facts.relays.isRelayed($0) }) { return true }
        // The peer's TURN permissions / channels name the owner's candidates.
        if session.hasTwoAgents {
            for e in addresses[owner.other] {
                if let a = facts.relays.allocation(relaying: e), a.sentToPrivatePeer { return true }
            }
        }
        if let u = session.ufrag(of: owner) {
            for d in facts.signalling.descriptions(of: u) {
                if d.candidates.contains(where: { $0.endpoint.map { $0.address.isPrivate } ?? false }) { return true }
            }
        }
        return false
    }

    /// The viewer knew this address before a check came from it, so it was
    /// signalled rather than learnt (RFC 8445 7.3.1.3): it checked it first, or
    /// from two of its own addresses, or sent to it through its TURN allocation.
    private func viewerKnewBeforehand(_ viewer: AgentSide, address x: Endpoint) -> Bool {
        if let c = session.contact(of: viewer, with: x) {
            if let sent = c.firstSent, c.firstReceived.map({ sent < $0 }) ?? true { return true }
            if c.locals.count >= 2 { return true }
        }
        for e in addresses[viewer] {
            if let a = facts.relays.allocation(relaying: e), a.addressed(x) { return true }
        }
        return false
    }
}
