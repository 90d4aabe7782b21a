import NetworkVocabulary

/// A candidate from SDP (SIP in the capture, or `--sdp FILE`).
struct SignalledCandidate {
    var address: String
    var endpoint: Endpoint?
    var type: CandidateType
    var transport: String
    var priority: UInt32
    var foundation: String
    var related: String?
    /// ICE-TCP (RFC 6544): `active` candidates are signalled with port 9 and connect from any port.
    var tcpType: String? = nil
}

/// One SDP's ICE information: whose ufrag, which candidates, from where.
struct SignalledDescription {
    var ufrag: String?
    var candidates: [SignalledCandidate]
    /// `SIP INVITE (frame 11)` or `--sdp offer.sdp`.
    var source: String
    var callId: String?
}

/// Turns `IceSessionTracker` state into `IceSessionSummary`s: roles,
/// candidate types (with what this vantage point can know), pair states,
/// nomination mode, the selected pair, consent freshness, visibility notes
/// and findings.
///
/// Addresses are classified the way ICE does (RFC 8445 5.1.1, 7.2.5.3.1,
/// 7.3.1.3): the sender of a check uses its base, so a pair's own side is
/// `host` or `relay`; the other side is what the sender addressed, known
/// from the XOR-MAPPED-ADDRESS of the responses: `relay` when it is a TURN
/// relayed address, `srflx` when a STUN server returned it, `host` when it
/// is the owner's own address, and `prflx` when no candidate had it.
struct IceSessionSummaryBuilder {
    let stunMap: [Endpoint: [Endpoint]]
    /// `stunMap`'s keys by their first Binding response: explanations that pick one of
    /// several mappings pick the same one on every run.
    let stunMapOrder: [Endpoint]
    let mappedTo: [Endpoint: [Endpoint]]
    let relayed: [Endpoint: TurnAllocation]
    let allocations: [TurnAllocation]
    let turnIPs: Set<IPAddress>
    let signalled: [SignalledDescription]
    let signalledByAddress: [Endpoint: (candidate: SignalledCandidate, ufrag: String?, source: String)]
    let natMappings: [NatMappingSummary]
    let end: CaptureTime

    init(reflexiveByLocal: [Endpoint: [(server: Endpoint, reflexive: Endpoint, frame: Int)]],
         allocations: [TurnAllocation], signalled: [SignalledDescription], natMappings: [NatMappingSummary], end: CaptureTime) {
        var stunMap: [Endpoint: [Endpoint]] = [:]
        var mappedTo: [Endpoint: [Endpoint]] = [:]
        let order = reflexiveByLocal.map { (local: $0.key, frame: $0.value.map(\.frame).min() ?? 0) }
            .sorted { ($0.frame, $0.local.description) < ($1.frame, $1.local.description) }.map(\.local)
        for local in order {
            for o in reflexiveByLocal[local] ?? [] {
                if !(stunMap[local]?.contains(o.reflexive) ?? false) { stunMap[local, default: []].append(o.reflexive) }
                if !(mappedTo[o.reflexive]?.contains(local) ?? false) { mappedTo[o.reflexive, default: []].append(local) }
            }
        }
        self.stunMap = stunMap
        stunMapOrder = order
        self.mappedTo = mappedTo
        var relayed: [Endpoint: TurnAllocation] = [:]
        var ips = Set<IPAddress>()
        for a in allocations {
            ips.insert(a.flow.destination.address)
            for r in a.relayed {
                relayed[r] = a
                ips.insert(r.address)
            }
        }
        self.relayed = relayed
        self.allocations = allocations
        self.turnIPs = ips
        self.signalled = signalled
        var byAddress: [Endpoint: (SignalledCandidate, String?, String)] = [:]
        for d in signalled {
            for c in d.candidates {
                guard let e = c.endpoint, byAddress[e] == nil else { continue }
                byAddress[e] = (c, d.ufrag, d.source)
            }
        }
        self.signalledByAddress = byAddress
        self.natMappings = natMappings
        self.end = end
    }

    /// The result of classifying one address of one agent.
    struct Classified {
        var type: CandidateType
        var reason: PrflxReason?
        var explanation: String
        var address: Endpoint?
        /// Decided by a heuristic rather than by a STUN/TURN observation or signalling.
        var inferred = false
    }

    // MARK: Per session

    final class Work {
        let s: IceSessionState
        var local = 0
        var remote = 1
        var controllingKnown = false
        var roleSource: IceRoleSource?
        /// Every wire address of each agent's side, and whether it was a relayed address.
        var sides: [[Endpoint]] = [[], []]
        var inferredTypes = Set<String>()
        /// Addresses whose type cannot be told apart here (srflx after the NAT, or host without one).
        var ambiguous = Set<String>()
        var findings: [(Finding.Severity, String, String, [Int])] = []
        init(_ s: IceSessionState) { self.s = s }
    }

    func summary(of s: IceSessionState, findings: inout FindingCollector) -> IceSessionSummary {
        let w = Work(s)
        let two = s.ufrags.count == 2
        let pairs = s.pairOrder.compactMap { s.pairs[$0] }
        for p in pairs {
            for i in 0..<(two ? 2 : 1) where !w.sides[i].contains(p.key.side(i)) { w.sides[i].append(p.key.side(i)) }
        }
        decideRoles(w, pairs: pairs)
        let L = w.local, R = w.remote

        var out = IceSessionSummary(id: s.id, ufrags: s.ufrags, nomination: .none, start: s.start.epochSeconds,
                                    end: s.last.epochSeconds)
        out.roleSource = w.roleSource
        out.checks = s.checks
        out.responses = s.responses
        out.transports = s.transports.sorted { $0.description < $1.description }
        out.pairsDropped = s.pairsDropped
        out.timeline = s.timeline
        out.timelineDropped = s.timelineDropped
        out.roleConflicts = s.roleConflictFrames.count
        out.integrityCounts = s.integrity
        if two {
            out.controllingUfrag = w.controllingKnown ? s.ufrags[L] : nil
            out.controlledUfrag = w.controllingKnown ? s.ufrags[R] : nil
        }
        for a in s.agents { if let tb = a.tieBreaker { out.tieBreakers[a.ufrag] = String(tb) } }

        // Pairs.
        var summaries: [IcePairSummary] = []
        for p in pairs { summaries.append(pairSummary(p, w)) }

        // Nomination mode and selected pair.
        out.nomination = nominationMode(pairs, w)
        let selection = select(pairs, w)
        if let (p, basis) = selection, let i = pairs.firstIndex(where: { $0 === p }) {
            let ps = summaries[i]
            var sel = IceSelectedPair(local: ps.local, remote: ps.remote, localType: ps.localType, remoteType: ps.remoteType)
            sel.controlledLocalType = ps.controlledLocalType
            sel.controlledRemoteType = ps.controlledRemoteType
            sel.viaRelay = ps.viaRelay
            sel.basis = basis
            sel.nominationFrame = ps.nominationFrame
            out.selectedPair = sel
            if let t = nominationTime(p, w), let first = s.firstCheck {
                out.connectTime = Double(t.nanoseconds &- first.nanoseconds) / 1e9
            }
            if let m = p.firstMedia {
                out.firstMediaTime = m.time.epochSeconds
                if let first = s.firstCheck { out.firstMediaDelay = Double(m.time.nanoseconds &- first.nanoseconds) / 1e9 }
            }
            out.consent = consent(p, w, findings: &findings)
            summaries[i].state = summaries[i].state == .inProgress ? .succeeded : summaries[i].state
        }
        out.pairs = summaries

        // Roles as endpoints.
        if two, w.controllingKnown {
            let selectedKey = selection?.0.key
            out.controlling = (selectedKey ?? pairs.first?.key)?.side(L).description
            out.controlled = (selectedKey ?? pairs.first?.key)?.side(R).description
        }

        // Agents.
        for (i, a) in s.agents.enumerated() {
            var sum = IceAgentSummary(ufrag: a.ufrag)
            sum.role = a.role ?? (w.controllingKnown && two ? (i == L ? .controlling : .controlled) : nil)
            sum.initialRole = a.initialRole
            sum.tieBreaker = a.tieBreaker.map(String.init)
            sum.addresses = w.sides[min(i, 1)].map(\.description)
            sum.checksSent = a.checksSent
            sum.roleSwitches = a.roleSwitches
            sum.signalledBy = signalled.first { $0.ufrag == a.ufrag }?.source
            out.agents.append(sum)
        }

        out.candidates = candidates(pairs, w)
        integrity(&out)
        visibility(&out, pairs: pairs, w: w)
        sessionFindings(out, pairs: pairs, w: w, findings: &findings)
        return out
    }

    // MARK: Roles

    private func decideRoles(_ w: Work, pairs: [IcePairState]) {
        let s = w.s
        guard s.ufrags.count == 2 else {
            w.local = 0
            w.remote = 0
            return
        }
        let roles = s.agents.map(\.role)
        var controlling: Int?
        if roles[0] == .controlling && roles[1] != .controlling {
            controlling = 0
        } else if roles[1] == .controlling && roles[0] != .controlling {
            controlling = 1
        } else if roles[0] == .controlling && roles[1] == .controlling {
            // Unresolved conflict: RFC 8445 7.3.1.1, the larger tie-breaker keeps the controlling role.
            controlling = (s.agents[0].tieBreaker ?? 0) >= (s.agents[1].tieBreaker ?? 0) ? 0 : 1
        }
        if let c = controlling {
            w.roleSource = .iceControlling
            w.controllingKnown = true
            w.local = c
        } else if roles[0] == .controlled && roles[1] != .controlled {
            w.roleSource = .inferred
            w.controllingKnown = true
            w.local = 1
        } else if roles[1] == .controlled && roles[0] != .controlled {
            w.roleSource = .inferred
            w.controllingKnown = true
            w.local = 0
        } else {
            // No role seen: the first checker's side is .local.
            let first = pairs.min { ($0.dir.compactMap(\.firstRequest).min() ?? end) < ($1.dir.compactMap(\.firstRequest).min() ?? end) }
            w.local = first?.initiator ?? 0
        }
        w.remote = 1 - w.local
    }

    // MARK: Classification

    /// The owner's own candidate type for its side of a pair: the base of a
    /// check is a host candidate, or a relayed address when sent through TURN.
    func ownType(_ p: IcePairState, owner: Int, _ w: Work) -> CandidateType {
        let e = p.key.side(owner)
        if p.relaySide[owner] || relayed[e] != nil { return .relay }
        if turnIPs.contains(e.address), !WellKnownPorts.stunServer.contains(e.port) { return .relay }
        if let sc = signalledByAddress[e], sc.ufrag == nil || sc.ufrag == w.s.ufrags[safe: owner] {
            return sc.candidate.type == .relay ? .relay : .host
        }
        return .host
    }

    /// The owner's address as its peer (the viewer) addressed it, and that address's candidate type.
    func viewType(_ p: IcePairState, owner: Int, viewer: Int, _ w: Work) -> Classified {
        let wire = p.key.side(owner)
        if p.relaySide[owner] || relayed[wire] != nil {
            return Classified(type: .relay, explanation: "the check went through the owner's TURN allocation: a relayed address",
                              address: wire)
        }
        var address: Endpoint? = p.dir[owner].mapped
        var assumed = false
        if address == nil {
            if let maps = stunMap[wire], !maps.contains(wire) || maps.count > 1 {
                // Seen before the owner's NAT: the peer addressed its mapping.
                let others = maps.filter { $0 != wire }
                if others.count == 1 {
                    address = others[0]
                    assumed = true
                }
            } else if !wire.address.isPrivate || stunMap[wire] == nil {
                address = wire
            } else {
                address = wire
            }
        }
        guard let x = address else {
            return Classified(type: .unknown, explanation: "no response to the owner's checks was seen, and the owner's address before NAT does not say what the peer addressed")
        }
        var c = classify(x, owner: owner, viewer: viewer, wire: wire, w)
        if c.type == .prflx, p.dir[owner].mapped == nil,
           w.s.contacts[IceContactKey(viewer: viewer, address: x)]?.firstSent == nil {
            // Nothing shows that the peer got this check (no response, no check back): it cannot have learnt it.
            c.type = .unknown
            c.explanation = "would be peer-reflexive, but nothing shows that its peer received the check (no response, no check back): " + c.explanation
        }
        if assumed {
            c.inferred = true
            c.explanation += " (assumed: no response to the owner's checks seen, so the peer's view is taken to be the STUN server's mapping)"
        }
        return c
    }

    func classify(_ x: Endpoint, owner: Int, viewer: Int, wire: Endpoint, _ w: Work) -> Classified {
        let s = w.s
        let ownerUfrag = s.ufrags[safe: owner]
        if let a = relayed[x] {
            return Classified(type: .relay, explanation: "relayed address of TURN allocation \(a.id)", address: x)
        }
        if turnIPs.contains(x.address), !WellKnownPorts.stunServer.contains(x.port), signalledByAddress[x] == nil {
            return Classified(type: .relay, explanation: "on the address of a TURN server seen in this capture (its allocation was not seen)",
                              address: x, inferred: true)
        }
        if let sc = signalledByAddress[x], sc.ufrag == nil || sc.ufrag == ownerUfrag || !s.ufrags.contains(sc.ufrag ?? "") {
            return Classified(type: sc.candidate.type, explanation: "signalled in \(sc.source)", address: x)
        }
        if x == wire, let sc = activeTcpCandidate(x.address, owner: ownerUfrag), w.s.transports.contains(.tcp) {
            return Classified(type: sc.candidate.type, explanation: "an ICE-TCP active candidate signalled in \(sc.source) (port 9: it connects from an ephemeral port)", address: x)
        }
        if let locals = mappedTo[x]?.filter({ $0 != x }), let base = locals.first {
            return Classified(type: .srflx, explanation: "a STUN server returned it to \(base) (server-reflexive)", address: x)
        }
        if x == wire, x.address.isPrivate, stunMap[x].map({ !$0.contains(x) }) ?? true {
            return Classified(type: .host, explanation: "the owner's own (private) address, reached directly", address: x)
        }
        if stunMap[x]?.contains(x) == true {
            if ownerHasPrivate(owner, w) {
                return Classified(type: .srflx, explanation: "a STUN server returned this address as its own mapping; the owner also has private addresses, so it is behind a NAT and this is its server-reflexive address", address: x)
            }
            // Seen after the NAT, or no NAT at all: the two look the same from here.
            w.ambiguous.insert(x.description)
            var c = Classified(type: .srflx, explanation: "a STUN server returned this address as its own mapping: the server-reflexive address of a host behind NAT, or (if the owner has no NAT) also its host address; this vantage point cannot tell which", address: x)
            c.inferred = true
            return c
        }
        if signalledEvidence(viewer: viewer, address: x, w) {
            w.inferredTypes.insert(x.description)
            var c: Classified
            if turnIPs.contains(x.address) {
                c = Classified(type: .relay, explanation: "on a TURN server's address", address: x)
            } else if x.address.isPrivate {
                c = Classified(type: .host, explanation: "a private address", address: x)
            } else if ownerHasPrivate(owner, w) {
                c = Classified(type: .srflx, explanation: "a public address of an agent that also has private addresses (behind NAT)", address: x)
            } else {
                c = Classified(type: .host, explanation: "a public address of an agent with no private address", address: x)
            }
            c.inferred = true
            c.explanation = "signalled (its peer checked it before any check came from it); type inferred: " + c.explanation
            return c
        }
        var c = Classified(type: .prflx, explanation: "", address: x)
        let (reason, text) = prflxReason(x, owner: owner, viewer: viewer, wire: wire, w)
        c.reason = reason
        c.explanation = "peer-reflexive, learnt by \(s.ufrags[safe: viewer] ?? "?") from \(p_how(x, wire))" + ": " + text
        if let u = ownerUfrag { c.explanation += " (owner \(u))" }
        return c
    }

    /// A signalled ICE-TCP active candidate on this IP (RFC 6544 section 4.5: its port is 9).
    func activeTcpCandidate(_ ip: IPAddress, owner: String?) -> (candidate: SignalledCandidate, source: String)? {
        for d in signalled where owner == nil || d.ufrag == nil || d.ufrag == owner {
            if let c = d.candidates.first(where: { $0.transport == "tcp" && $0.tcpType == "active" && $0.endpoint?.address == ip }) {
                return (c, d.source)
            }
        }
        return nil
    }

    private func p_how(_ x: Endpoint, _ wire: Endpoint) -> String {
        x == wire ? "a check that came from \(x), which no candidate had" : "the XOR-MAPPED-ADDRESS \(x) of a check response, which no candidate had"
    }

    /// Why a check came from an address no candidate had (RFC 8445 sections 7.2.5.3.1 and 7.3.1.3).
    func prflxReason(_ x: Endpoint, owner: Int, viewer: Int, wire: Endpoint, _ w: Work) -> (PrflxReason, String) {
        // The owner's base and what the STUN server made of it.
        // Only the pair's own base counts: another socket of the same host has its own mappings.
        let bases: [Endpoint] = stunMap[wire] != nil ? [wire] : []
        for b in bases {
            let maps = stunMap[b]!.filter { $0 != x }
            if let m = maps.first(where: { $0.address == x.address }) {
                return (.symmetricNat, "the owner's NAT mapped \(b) to \(m) toward the STUN server but to \(x) toward its peer: address-dependent (symmetric) mapping, so the signalled srflx candidate did not match")
            }
            if let m = maps.first {
                if x.address.isPrivate {
                    return (.nestedNat, "the STUN server saw \(b) as \(m), but the peer saw \(x), a private address: the agents sit behind different levels of NAT and the check only crossed the inner one")
                }
                return (.symmetricNat, "the STUN server saw \(b) as \(m), the peer saw \(x): the NAT path to the peer maps differently")
            }
        }
        // Same NAT address as a STUN mapping seen for some host, another port.
        for local in stunMapOrder {
            guard let maps = stunMap[local] else { continue }
            // A mapping seen after the NAT (local == mapping): its base may be the same socket.
            guard maps.contains(local) else { continue }
            if let m = maps.first(where: { $0.address == x.address && $0.port != x.port }), local != x {
                return (.symmetricNat, "the NAT at \(x.address) gave \(local) the mapping \(m) toward the STUN server; the check came from port \(x.port): the NAT maps each destination to a new port (symmetric)")
            }
        }
        if x.address.isPrivate && !w.sides[min(owner, 1)].contains(x) {
            return (.nestedNat, "a private address that is not the owner's host address: an inner NAT between the agents (different NAT levels)")
        }
        if ownerHasPrivate(owner, w) {
            return (.unknownNat, "the owner is behind a NAT (it has private addresses) and the peer had no candidate for this mapping: a NAT it did not know about, or a symmetric NAT whose srflx candidate did not match")
        }
        return (.unsignalled, "the address was not among the candidates the peer checked before (not signalled, or signalled after the check)")
    }

    func ownerHasPrivate(_ owner: Int, _ w: Work) -> Bool {
        if w.sides[min(owner, 1)].contains(where: { $0.address.isPrivate && relayed[$0] == nil }) { return true }
        // The peer's TURN permissions / channels name the owner's candidates.
        if w.s.ufrags.count == 2 {
            for e in w.sides[1 - min(owner, 1)] {
                guard let a = relayed[e] else { continue }
                if a.channels.values.contains(where: { $0.peer.address.isPrivate })
                    || a.peers.contains(where: { $0.key.address.isPrivate && ($0.value.sendIndications > 0 || $0.value.channelDataToServer > 0) }) {
                    return true
                }
            }
        }
        if let u = w.s.ufrags[safe: owner] {
            for d in signalled where d.ufrag == u {
                if d.candidates.contains(where: { $0.endpoint.map { $0.address.isPrivate } ?? false }) { return true }
            }
        }
        return false
    }

    /// The viewer knew this address before a check came from it: it checked
    /// it first, or from two of its own addresses, or installed a TURN
    /// permission / channel for it.
    func signalledEvidence(viewer: Int, address x: Endpoint, _ w: Work) -> Bool {
        if let c = w.s.contacts[IceContactKey(viewer: viewer, address: x)] {
            if let sent = c.firstSent {
                if c.firstReceived == nil || sent < c.firstReceived! { return true }
            }
            if c.locals.count >= 2 { return true }
        }
        for e in w.sides[min(viewer, 1)] {
            guard let a = relayed[e] else { continue }
            if a.channels.values.contains(where: { $0.peer == x }) { return true }
            if let peer = a.peers[x], peer.sendIndications > 0 || peer.channelDataToServer > 0 { return true }
        }
        return false
    }

    // MARK: Pairs

    private func pairSummary(_ p: IcePairState, _ w: Work) -> IcePairSummary {
        let L = w.local, R = w.remote
        let two = w.s.ufrags.count == 2
        let dl = p.dir[L], dr = two ? p.dir[R] : IceDirectionState()
        let localType = ownType(p, owner: L, w)
        let remoteView = two ? viewType(p, owner: R, viewer: L, w) : Classified(type: .unknown, explanation: "")
        let controlledLocal = two ? ownType(p, owner: R, w) : nil
        let localView = two ? viewType(p, owner: L, viewer: R, w) : nil
        let requests = dl.requests + dr.requests
        let successes = dl.successes + dr.successes
        let errors = dl.errors + dr.errors
        var state: PairState
        if successes > 0 {
            state = .succeeded
        } else if errors > 0 && (dl.errorCodes + dr.errorCodes).contains(where: { $0 != 487 }) {
            state = .failed
        } else if let last = [dl.lastRequest, dr.lastRequest].compactMap({ $0 }).max(),
                  Double(end.nanoseconds &- last.nanoseconds) / 1e9 >= 39.5 {
            state = .failed
        } else {
            state = requests > 0 ? .inProgress : .waiting
        }
        let initiatorLocal = p.initiator == nil || p.initiator == L
        let hf = initiatorLocal ? p.handshakeFrames : p.handshakeFrames
        var sum = IcePairSummary(
            local: p.key.side(L).description, remote: p.key.side(R).description,
            localType: localType, remoteType: remoteView.type,
            controlledLocalType: controlledLocal, controlledRemoteType: localView?.type,
            localSeenByRemote: dl.mapped?.description, remoteSeenByLocal: two ? dr.mapped?.description : nil,
            transport: p.key.transport,
            viaRelay: p.relaySide[0] || p.relaySide[1] || localType == .relay || remoteView.type == .relay,
            state: state, nominated: isNominated(p, w),
            requestsSent: requests, responsesReceived: successes, errorResponses: errors,
            retransmissions: dl.retransmissions + dr.retransmissions,
            firstRequest: [dl.firstRequest, dr.firstRequest].compactMap { $0 }.min()?.epochSeconds,
            lastRequest: [dl.lastRequest, dr.lastRequest].compactMap { $0 }.max()?.epochSeconds,
            firstResponse: [dl.firstResponse, dr.firstResponse].compactMap { $0 }.min()?.epochSeconds,
            lastResponse: [dl.lastResponse, dr.lastResponse].compactMap { $0 }.max()?.epochSeconds,
            rtt: DelayStatistics(samples: dl.rtts + dr.rtts),
            handshake: hf.map { $0 != nil })
        sum.checksFromLocal = dl.requests
        sum.checksFromRemote = two ? dr.requests : 0
        sum.responsesToLocal = dl.successes
        sum.responsesToRemote = two ? dr.successes : 0
        sum.useCandidateChecks = dl.useCandidate + (two ? dr.useCandidate : 0)
        sum.errorCodes = Array(Set(dl.errorCodes + dr.errorCodes)).sorted()
        sum.handshakeFrames = hf
        sum.handshakeInitiator = p.initiator.map { $0 == L ? .local : .remote }
        sum.nominationFrame = dl.nominationSuccessFrame ?? dl.useCandidateSuccessFrame
            ?? (w.controllingKnown ? nil : dr.useCandidateSuccessFrame)
        sum.mediaPackets = p.mediaPackets[0] + p.mediaPackets[1]
        sum.mediaBytes = p.mediaBytes[0] + p.mediaBytes[1]
        return sum
    }

    /// The controlling agent nominated the pair: a check with USE-CANDIDATE
    /// (or NOMINATION) that got a success response.
    func isNominated(_ p: IcePairState, _ w: Work) -> Bool {
        let d = p.dir[w.local]
        if d.useCandidateSuccessFrame != nil || d.nominationSuccessFrame != nil { return true }
        if !w.controllingKnown, w.s.ufrags.count == 2 {
            let o = p.dir[w.remote]
            return o.useCandidateSuccessFrame != nil || o.nominationSuccessFrame != nil
        }
        return false
    }

    func nominationTime(_ p: IcePairState, _ w: Work) -> CaptureTime? {
        let d = p.dir[w.local]
        if let t = d.nominationSuccessTime ?? d.useCandidateSuccessTime { return t }
        if w.s.ufrags.count == 2 {
            let o = p.dir[w.remote]
            if !w.controllingKnown, let t = o.nominationSuccessTime ?? o.useCandidateSuccessTime { return t }
        }
        return nil
    }

    private func nominationMode(_ pairs: [IcePairState], _ w: Work) -> NominationMode {
        var nominators = [w.local]
        if !w.controllingKnown && w.s.ufrags.count == 2 { nominators.append(w.remote) }
        if pairs.contains(where: { p in nominators.contains { p.dir[$0].nomination != nil } }) { return .renomination }
        // The pair where USE-CANDIDATE first appeared decides: on its first check (aggressive) or later (regular).
        var first: (time: CaptureTime, regular: Bool)?
        for p in pairs {
            for i in nominators {
                let d = p.dir[i]
                guard let uc = d.firstUseCandidateTime, let fr = d.firstRequest else { continue }
                let regular = d.plainSuccessBeforeUseCandidate || uc > fr
                if first == nil || uc < first!.time { first = (uc, regular) }
            }
        }
        guard let f = first else { return .none }
        return f.regular ? .regular : .aggressive
    }

    /// The selected pair: the nominated pair (with renomination, the last
    /// one; with several, the one carrying media, else the first nominated),
    /// else a pair whose nominating check was seen without its response but
    /// that carries media, else (ICE-lite, no USE-CANDIDATE seen) the
    /// succeeded pair that carries media.
    private func select(_ pairs: [IcePairState], _ w: Work) -> (IcePairState, PairSelectionBasis)? {
        let nominated = pairs.filter { isNominated($0, w) }
        let media = { (p: IcePairState) in p.mediaPackets[0] + p.mediaPackets[1] }
        if !nominated.isEmpty {
            let withMedia = nominated.filter { media($0) > 0 }
            let renominated = nominated.filter { $0.dir[w.local].nominationSuccessTime != nil }
            if !renominated.isEmpty {
                let p = renominated.max { ($0.dir[w.local].nomination ?? 0, $0.dir[w.local].nominationSuccessTime!) < ($1.dir[w.local].nomination ?? 0, $1.dir[w.local].nominationSuccessTime!) }!
                return (p, media(p) > 0 ? .nominatedAndMedia : .nominated)
            }
            if withMedia.count >= 1 {
                return (withMedia.max { media($0) < media($1) }!, .nominatedAndMedia)
            }
            let p = nominated.min { (nominationTime($0, w) ?? end) < (nominationTime($1, w) ?? end) }!
            return (p, .nominated)
        }
        let requested = pairs.filter { p in (p.dir[w.local].useCandidate > 0 || p.dir[w.local].nomination != nil) && media(p) > 0 }
        if let p = requested.max(by: { media($0) < media($1) }) { return (p, .nominationRequestAndMedia) }
        let succeededWithMedia = pairs.filter { p in (p.dir[0].successes + p.dir[1].successes) > 0 && media(p) > 0 }
        if let p = succeededWithMedia.max(by: { media($0) < media($1) }) { return (p, .media) }
        return nil
    }

    // MARK: Consent freshness (RFC 7675)

    private func consent(_ p: IcePairState, _ w: Work, findings: inout FindingCollector) -> ConsentSummary? {
        let t0 = nominationTime(p, w) ?? p.dir.compactMap(\.firstSuccessTime).min()
        guard let start = t0 else { return nil }
        var checks = 0
        var intervals: [Double] = []
        var longest: (gap: Double, frame: Int)?
        for d in p.dir {
            var previous: CaptureTime?
            for (t, frame) in zip(d.requestTimes, d.requestFrames) where t > start {
                checks += 1
                if let prev = previous {
                    let gap = Double(t.nanoseconds &- prev.nanoseconds) / 1e9
                    intervals.append(gap)
                    if longest == nil || gap > longest!.gap { longest = (gap, frame) }
                }
                previous = t
            }
        }
        let indications = p.indicationTimes.filter { $0 > start }.count
        guard checks + indications > 0 else { return nil }
        var c = ConsentSummary(checks: checks, indications: indications, interval: DelayStatistics(samples: intervals),
                               longestGap: longest?.gap, longestGapFrame: longest?.frame)
        c.responses = p.dir.reduce(0) { $0 + $1.successTimes.filter { $0 > start }.count }
        if let l = longest, l.gap > 30 {
            findings.add(.warning, .iceConsentGap,
                         "\(session: .ice(w.s.id)): \(String(format: "%.1f", l.gap)) s without a consent check on the selected pair (up to frame \(l.frame)); RFC 7675 revokes consent after 30 s without a response, so media would have stopped.",
                         frames: [l.frame], session: .ice(w.s.id))
        }
        return c
    }

    // MARK: Candidates

    private func candidates(_ pairs: [IcePairState], _ w: Work) -> [IceCandidateSummary] {
        let s = w.s
        let two = s.ufrags.count == 2
        var out: [IceCandidateSummary] = []
        var index: [String: Int] = [:]
        var checked = Set<String>()
        for p in pairs {
            checked.insert(p.key.e0.description)
            checked.insert(p.key.e1.description)
            for d in p.dir { if let m = d.mapped { checked.insert(m.description) } }
        }
        func add(_ c: IceCandidateSummary) {
            if let i = index[c.address] {
                // Signalled facts win; a prflx stays prflx.
                if c.source == .signalled && out[i].source != .signalled && out[i].type != .prflx {
                    var merged = c
                    merged.checked = out[i].checked || c.checked
                    out[i] = merged
                }
                return
            }
            guard out.count < 512 else { return }
            index[c.address] = out.count
            out.append(c)
        }
        let agents = two ? [w.local, w.remote] : [0]
        for owner in agents {
            let ufrag = s.ufrags[owner]
            // Signalled candidates first: they are what the agent said it had.
            for d in signalled where d.ufrag == ufrag {
                for c in d.candidates {
                    // An ICE-TCP active candidate (port 9) is used from an ephemeral port of its address.
                    let activeUsed = c.transport == "tcp" && c.tcpType == "active"
                        && pairs.contains { $0.key.transport == .tcp && $0.key.side(owner).address == c.endpoint?.address }
                    var sum = IceCandidateSummary(address: c.endpoint?.description ?? "\(c.address)", type: c.type, source: .signalled,
                                                  agent: ufrag, transport: c.transport, priority: c.priority,
                                                  foundation: c.foundation, relatedAddress: c.related,
                                                  checked: checked.contains(c.endpoint?.description ?? c.address) || activeUsed)
                    sum.explanation = "signalled in \(d.source)"
                    add(sum)
                }
            }
            for p in pairs {
                let wire = p.key.side(owner)
                let own = ownType(p, owner: owner, w)
                // The wire address is the owner's base unless it is the NAT's mapping of it.
                let isBase = own == .relay || stunMap[wire].map { $0.contains { $0 != wire } } ?? false
                    || wire.address.isPrivate
                if isBase {
                    var c = IceCandidateSummary(address: wire.description, type: own, source: .observed, agent: ufrag,
                                                transport: p.key.transport.description, checked: true)
                    c.explanation = own == .relay ? "the owner's TURN relayed address" : "the address the owner's checks come from (its base)"
                    add(c)
                }
                guard two else { continue }
                let viewer = owner == w.local ? w.remote : w.local
                let v = viewType(p, owner: owner, viewer: viewer, w)
                if let x = v.address, v.type != .unknown {
                    var c = IceCandidateSummary(address: x.description, type: v.type, reason: v.reason, source: .observed,
                                                agent: ufrag, transport: p.key.transport.description,
                                                checked: checked.contains(x.description))
                    c.explanation = v.explanation
                    if v.type == .prflx { c.learntBy = s.ufrags[viewer] }
                    if v.type == .srflx, let base = mappedTo[x]?.first(where: { $0 != x }) { c.relatedAddress = base.description }
                    add(c)
                } else if !isBase {
                    var c = IceCandidateSummary(address: wire.description, type: .unknown, reason: v.reason, source: .observed,
                                                agent: ufrag, transport: p.key.transport.description, checked: true)
                    c.explanation = v.explanation
                    add(c)
                }
            }
            // STUN-server mappings and TURN allocations of the owner's bases.
            for e in w.sides[min(owner, 1)] {
                for m in stunMap[e] ?? [] where m != e {
                    var c = IceCandidateSummary(address: m.description, type: .srflx, source: .observed, agent: ufrag,
                                                relatedAddress: e.description, checked: checked.contains(m.description))
                    c.explanation = "a STUN server returned it to \(e)"
                    add(c)
                }
            }
            for a in allocations where a.relayed.contains(where: { w.sides[min(owner, 1)].contains($0) }) || isOwnerAllocation(a, owner: owner, w) {
                for r in a.relayed {
                    var c = IceCandidateSummary(address: r.description, type: .relay, source: .observed, agent: ufrag,
                                                relatedAddress: a.mapped?.description, checked: checked.contains(r.description))
                    c.explanation = "relayed address of TURN allocation \(a.id)"
                    add(c)
                }
            }
        }
        return out
    }

    /// An allocation made from the same host (IP) as one of the owner's bases.
    private func isOwnerAllocation(_ a: TurnAllocation, owner: Int, _ w: Work) -> Bool {
        w.sides[min(owner, 1)].contains { e in
            relayed[e] == nil && e.address == a.flow.source.address && stunMap[e].map { $0.contains { $0 != e } } ?? e.address.isPrivate
        }
    }

    // MARK: Integrity, visibility, findings

    private func integrity(_ out: inout IceSessionSummary) {
        let c = out.integrityCounts
        if (c["invalid"] ?? 0) > 0 { out.integrity = .invalid }
        else if (c["unchecked"] ?? 0) > 0 { out.integrity = (c["valid"] ?? 0) > 0 ? .partlyUnchecked : .unchecked }
        else if (c["valid"] ?? 0) > 0 { out.integrity = .valid }
    }

    private func visibility(_ out: inout IceSessionSummary, pairs: [IcePairState], w: Work) {
        let s = w.s
        var v: [String] = []
        let two = s.ufrags.count == 2
        if two {
            let senders = (0..<2).filter { i in pairs.contains { $0.dir[i].requests > 0 } }
            if !w.controllingKnown {
                v.append("roles unknown: no check with ICE-CONTROLLING or ICE-CONTROLLED was seen")
            } else if w.roleSource == .inferred {
                v.append("no check from the controlling agent (\(s.ufrags[w.local])) passed this vantage point: its role is inferred from the other agent's ICE-CONTROLLED, and its nominations cannot be seen")
            }
            if senders.count == 1 {
                v.append("only agent \(s.ufrags[senders[0]])'s checks are visible here: agent \(s.ufrags[1 - senders[0]])'s checks took another path")
            }
        }
        if out.selectedPair == nil {
            if pairs.contains(where: { ($0.dir[0].successes + $0.dir[1].successes) > 0 }) || pairs.isEmpty || w.roleSource == .inferred
                || !pairs.contains(where: { $0.dir[w.local].requests > 0 && (two ? $0.dir[w.remote].requests > 0 : true) }) {
                v.append("selected pair: not visible here (no nominated pair with a success response passed this vantage point)")
            } else {
                v.append("selected pair: none (checks were seen but no pair was nominated and succeeded)")
            }
        }
        if two, !out.candidates.contains(where: { $0.type == .prflx }),
           !pairs.contains(where: { $0.dir[0].successes > 0 && $0.dir[1].successes > 0 }) {
            v.append("peer-reflexive candidates: none seen, but no pair showed checks answered in both directions here, so ones learnt elsewhere cannot be ruled out")
        }
        if out.nomination == .none {
            v.append("nomination: no USE-CANDIDATE or NOMINATION was seen at this vantage point, so the nomination mode cannot be told here")
        }
        let unanswered = pairs.reduce(0) { $0 + $1.dir.reduce(0) { $0 + max(0, $1.requests - $1.successes - $1.errors) } }
        if unanswered > 0 {
            v.append("\(unanswered) check(s) got no response here (unreachable candidates, or the responses took another path)")
        }
        for i in 0..<(two ? 2 : 1) {
            let natted = w.sides[i].filter { e in
                relayed[e] == nil && (stunMap[e].map { $0.contains { $0 != e } }
                    ?? (e.address.isPrivate && s.checkSources[i].contains(e)
                        && !pairs.contains { $0.key.side(i) == e && $0.dir[i].mapped == e }))
            }
            if !natted.isEmpty {
                v.append("agent \(s.ufrags[i])'s addresses are seen before its NAT (\(natted.prefix(3).map(\.description).joined(separator: ", "))): how its peer saw them comes from the XOR-MAPPED-ADDRESS of the check responses")
            }
        }
        if !w.ambiguous.isEmpty {
            v.append("srflx or host cannot be told apart here for \(w.ambiguous.sorted().prefix(6).joined(separator: ", ")): a STUN server saw the address unchanged and nothing shows whether its owner is behind a NAT (reported as srflx)")
        }
        if !w.inferredTypes.isEmpty {
            v.append("candidate types inferred without signalling or the owner's STUN/TURN exchanges: \(w.inferredTypes.sorted().prefix(6).joined(separator: ", "))")
        }
        if s.relayedWithoutAllocation > 0 {
            v.append("\(s.relayedWithoutAllocation) check(s) went through a TURN allocation whose Allocate was not captured: the TURN server's address stands in for the relayed address")
        }
        if s.unresolvedCarrierChecks > 0 {
            v.append("\(s.unresolvedCarrierChecks) check(s) inside ChannelData on a channel whose ChannelBind was not captured could not be placed on a pair")
        }
        if s.pairsDropped > 0 {
            v.append("\(s.pairsDropped) check(s) on further pairs were not tracked (more than \(IceSessionState.maxPairs) pairs)")
        }
        out.visibility = v
    }

    private func sessionFindings(_ out: IceSessionSummary, pairs: [IcePairState], w: Work, findings: inout FindingCollector) {
        let s = w.s
        let session = SessionRef.ice(s.id)
        if !s.roleConflictFrames.isEmpty {
            let switches = s.agents.flatMap { a in a.roleSwitches.map { "\(a.ufrag) \($0.from) -> \($0.to) at frame \($0.frame)" } }
            findings.add(.warning, .iceRoleConflict,
                         "\(session: session): \(s.roleConflictFrames.count) 487 Role Conflict response(s): both agents claimed the same role\(switches.isEmpty ? "; no role switch was seen afterwards." : "; then " + switches.joined(separator: ", ") + ".")",
                         frames: s.roleConflictFrames, session: session)
        }
        let succeeded = out.pairs.filter { $0.state == .succeeded }
        let unansweredPairs = out.pairs.enumerated().filter { $0.element.requestsSent > 0 && $0.element.responsesReceived == 0 && $0.element.errorResponses == 0 }
        if !unansweredPairs.isEmpty {
            let frames = unansweredPairs.compactMap { pairs[$0.offset].dir.compactMap(\.firstRequestFrame).min() }
            let list = unansweredPairs.prefix(4).map { "\($0.element.local) -> \($0.element.remote)" }.joined(separator: ", ")
            findings.add(succeeded.isEmpty ? .warning : .info, .iceChecksUnanswered,
                         "\(session: session): checks on \(unansweredPairs.count) of \(out.pairs.count) candidate pair(s) got no response here (\(list)\(unansweredPairs.count > 4 ? ", ..." : "")): unreachable candidates (private addresses across NATs, filtered ports) or answers that took another path.",
                         frames: frames, session: session)
        }
        let bothDirections = pairs.contains { $0.dir[0].requests > 0 } && pairs.contains { $0.dir.count > 1 && $0.dir[1].requests > 0 }
        if succeeded.isEmpty && !out.pairs.isEmpty && bothDirections && out.selectedPair == nil {
            findings.add(.error, .iceFailed,
                         "\(session: session): both agents sent checks on \(out.pairs.count) pair(s) but no check got a success response: connectivity failed (firewalls, symmetric NATs without a TURN relay, or wrong credentials).",
                         frames: pairs.compactMap { $0.dir.compactMap(\.firstRequestFrame).min() }, session: session)
        }
        // All pairs toward server-reflexive candidates failed while a symmetric NAT is in evidence.
        let symmetricPrflx = out.candidates.filter { $0.reason == .symmetricNat }
        let symmetricNat = natMappings.filter { $0.mappingBehavior == .addressDependent }
        // Pairs toward the symmetric agent's srflx candidates (as its peer saw them).
        let owners = Set(symmetricPrflx.compactMap(\.agent))
        let srflxPairs = out.pairs.filter { p in
            if owners.isEmpty { return p.remoteType == .srflx || p.controlledRemoteType == .srflx }
            return (owners.contains(out.controlledUfrag ?? "") && p.remoteType == .srflx)
                || (owners.contains(out.controllingUfrag ?? "") && p.controlledRemoteType == .srflx)
        }
        if !srflxPairs.isEmpty, !srflxPairs.contains(where: { $0.state == .succeeded }), !symmetricPrflx.isEmpty || !symmetricNat.isEmpty {
            let who = symmetricPrflx.first.map { "\($0.agent ?? "?") (\($0.address))" } ?? symmetricNat.first!.local
            findings.add(.warning, .iceSrflxSymmetricNat,
                         "\(session: session): every pair toward a server-reflexive candidate failed (\(srflxPairs.count) pair(s)): \(who) is behind a symmetric NAT, whose mapping toward the peer differs from the one the STUN server saw, so srflx candidates cannot work; only relay or peer-reflexive pairs can.",
                         frames: [], session: session)
        }
        if let sel = out.selectedPair, sel.viaRelay {
            let direct = out.pairs.filter { !$0.viaRelay && $0.state == .succeeded }
            if !direct.isEmpty {
                findings.add(.warning, .iceRelayOverDirect,
                             "\(session: session): the selected pair goes through TURN (\(sel.local) <-> \(sel.remote)) although the direct pair \(direct[0].local) <-> \(direct[0].remote) succeeded: extra latency and relay cost.",
                             frames: [], session: session)
            }
        }
        for c in out.candidates where c.type == .prflx {
            findings.add(.info, .iceCandidatePrflx,
                         "\(session: session): peer-reflexive candidate \(c.address) (\(c.reason?.rawValue ?? "?")): \(c.explanation ?? "")",
                         frames: [], session: session)
        }
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
