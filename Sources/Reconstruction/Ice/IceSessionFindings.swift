import NetworkVocabulary
import OrderedCollections

extension IceSessionContext {
    /// The findings one session raises once it is summarised (the consent gap
    /// is raised with the consent summary, `consentFreshness(on:findings:)`).
    func addFindings(for summary: IceSessionSummary, to findings: inout FindingCollector) {
        let ref = SessionRef.ice(session.id)
        // RFC 8445 7.3.1.1: both agents claimed the same role; the one told 487 must switch.
        if !session.roleConflictFrames.isEmpty {
            let switches = session.agents.flatMap { a in a.roleSwitches.map { "\(a.ufrag) \($0.from) -> \($0.to) at frame \($0.frame)" } }
            // The switch is RFC 8445's own repair: a conflict it resolved is normal operation.
            let resolved = !switches.isEmpty
            findings.add(resolved ? .info : .warning, .iceRoleConflict,
                         "\(session: ref): \(session.roleConflictFrames.count) 487 Role Conflict response(s): both agents claimed the same role\(resolved ? "; then " + switches.joined(separator: ", ") + ": resolved as RFC 8445 section 7.3.1.1 prescribes." : "; no role switch was seen afterwards, so the conflict may persist.")",
                         frames: session.roleConflictFrames, session: ref)
        }
        let succeeded = summary.pairs.filter { $0.state == .succeeded }
        // `summary.pairs` and `pairs` are in the same order.
        let unanswered = summary.pairs.enumerated().filter {
            $0.element.requestsSent > 0 && $0.element.responsesReceived == 0 && $0.element.errorResponses == 0
        }
        if !unanswered.isEmpty {
            let frames = unanswered.compactMap { firstCheckFrame(pairs[$0.offset]) }
            let list = unanswered.prefix(4).map { "\($0.element.local) -> \($0.element.remote)" }.joined(separator: ", ")
            // A warning only when this vantage point shows both agents trying one pair and no pair
            // answered; checks that lost the race on another path (a TURN server's view) are information.
            let bothOnOnePair = pairs.contains { $0.checks(from: .first).requests > 0 && $0.checks(from: .second).requests > 0 }
            findings.add(succeeded.isEmpty && (bothOnOnePair || !session.hasTwoAgents) ? .warning : .info, .iceChecksUnanswered,
                         "\(session: ref): checks on \(unanswered.count) of \(summary.pairs.count) candidate pair(s) got no response here (\(list)\(unanswered.count > 4 ? ", ..." : "")): unreachable candidates (private addresses across NATs, filtered ports) or answers that took another path.",
                         frames: frames, session: ref)
        }
        let bothAgentsChecked = pairs.contains { $0.checks(from: .first).requests > 0 }
            && pairs.contains { $0.checks(from: .second).requests > 0 }
        let symmetric = symmetricNatEvidence(summary)
        if succeeded.isEmpty && !summary.pairs.isEmpty && bothAgentsChecked && summary.selectedPair == nil {
            let why = symmetric.map { " " + $0.sentence + "; no relayed pair succeeded either." }
                ?? " (firewalls, symmetric NATs without a TURN relay, or wrong credentials)."
            findings.add(.error, .iceFailed,
                         "\(session: ref): both agents sent checks on \(summary.pairs.count) pair(s) but no check got a success response: connectivity failed\(symmetric == nil ? "" : ".")\(why)",
                         frames: pairs.compactMap(firstCheckFrame) + (symmetric?.frames ?? []), session: ref)
        }
        addRelayedRootCause(for: summary, symmetric: symmetric, to: &findings)
        addRefusals(for: summary, to: &findings)
        for c in summary.candidates where c.type == .prflx {
            findings.add(.info, .iceCandidatePrflx,
                         "\(session: ref): peer-reflexive candidate \(c.address) (\(c.reason?.rawValue ?? "?")): \(c.explanation ?? "")",
                         frames: [], session: ref)
        }
    }

    /// Evidence that an agent sits behind a symmetric (address-dependent
    /// mapping, RFC 4787 section 4.1) NAT: its checks arrive from, or its peer
    /// saw it at, a port of its srflx candidate's IP other than that candidate's
    /// (one IP, two mappings); or a NAT-mapping view of one of its addresses that
    /// depends on the destination.
    struct SymmetricNatEvidence {
        var agent: String
        var sentence: String
        var frames: [Int]
        /// The mapping a STUN server saw, and the other one: the port the agent's checks came
        /// from (toward `toward`), when the evidence is one IP with two mappings.
        var srflx: Endpoint? = nil
        var other: Endpoint? = nil
        var toward: Endpoint? = nil
        var otherFrame: Int? = nil
    }

    func symmetricNatEvidence(_ summary: IceSessionSummary) -> SymmetricNatEvidence? {
        guard session.hasTwoAgents else { return nil }
        for agent in [roles.remote, roles.local] {
            let ufrag = session.ufrag(of: agent) ?? "?"
            let srflxCandidates = summary.candidates.filter { $0.agent == ufrag && $0.type == .srflx }
            let srflx = srflxCandidates.compactMap { Endpoint($0.address) }
            // Where the agent's checks were seen coming from, and where its peer saw them (with
            // the socket behind, when this vantage point shows it).
            var seen: [(address: Endpoint, how: String, frame: Int?, toward: Endpoint, base: Endpoint?)] = []
            for p in pairs where !p.isRelayed(agent) {
                let d = p.checks(from: agent)
                let wire = p.key.address(of: agent), peer = p.key.address(of: agent.other)
                if d.requests > 0 { seen.append((wire, "its checks to \(peer) arrive from", d.firstRequestFrame, peer, nil)) }
                if let m = d.mapped, m != wire {
                    seen.append((m, "its peer (\(peer)) saw its checks come from", d.mappedFrame, peer, wire))
                }
            }
            for (s, candidate) in zip(srflx, srflxCandidates) {
                // The srflx's own socket sends its checks through a mapping of its own: if that
                // mapping ever shows, the NAT kept it (another port is another socket).
                guard !seen.contains(where: { $0.address == s }) else { continue }
                let base = candidate.relatedAddress.flatMap(Endpoint.init)
                if let other = seen.first(where: { $0.address.address == s.address && $0.address.port != s.port && !srflx.contains($0.address)
                    && (base == nil || $0.base == nil || $0.base == base) }) {
                    let frames = seen.filter { $0.address == other.address }.compactMap(\.frame)
                    return SymmetricNatEvidence(
                        agent: ufrag,
                        sentence: "agent \(ufrag) is behind a symmetric NAT: its srflx candidate is \(s) (the STUN server's mapping) but \(other.how) \(other.address) (frame \(frames.first.map(String.init) ?? "?")): one IP, two mappings, so the NAT maps each destination to a new port and no peer can reach its srflx candidate",
                        frames: frames, srflx: s, other: other.address, toward: other.toward, otherFrame: other.frame)
                }
            }
            // A check source the classification put down to a symmetric NAT: a STUN server saw another port of its IP.
            for c in summary.candidates where c.agent == ufrag && c.reason == .symmetricNat {
                guard let x = Endpoint(c.address) else { continue }
                let frames = seen.filter { $0.address == x }.compactMap(\.frame)
                let stun = facts.mappings.otherPort(of: x)
                let what = stun.map { "a STUN server saw \($0) on the same NAT address, but its checks come from \(x)" }
                    ?? "its checks come from \(x), a mapping no candidate had (\(c.explanation ?? ""))"
                let check = seen.first { $0.address == x }
                return SymmetricNatEvidence(agent: ufrag,
                                            sentence: "agent \(ufrag) is behind a symmetric NAT: \(what)\(frames.first.map { " (frame \($0))" } ?? ""): one IP, two mappings, so the NAT maps each destination to a new port and no peer can reach its srflx candidate",
                                            frames: frames, srflx: stun, other: stun == nil ? nil : x, toward: check?.toward, otherFrame: check?.frame)
            }
            let own = Set(addresses[agent].map(\.description))
            if let nat = facts.natMappings.mappings(ofLocals: own).first(where: { $0.mappingBehavior == .addressDependent || $0.mappingBehavior == .addressAndPortDependent }) {
                return SymmetricNatEvidence(
                    agent: ufrag,
                    sentence: "agent \(ufrag) is behind a symmetric NAT: \(nat.observations.map { "\($0.server) saw \(nat.local) as \($0.reflexive)" }.joined(separator: ", ")) (one host address, several mappings)",
                    frames: nat.observations.map(\.frame))
            }
        }
        for agent in [roles.remote, roles.local] {
            if let e = symmetricNatByElimination(suspect: agent, summary) { return e }
        }
        return nil
    }

    /// A peer whose NAT keeps one mapping per socket (its public address seen the same toward two
    /// destinations), and direct checks between that address and the suspect that never got an
    /// answer while the suspect's checks never came from its srflx: under RFC 4787's behaviours
    /// only a suspect NAT that maps each destination to a new port explains it (seen from either
    /// agent's own LAN, where the second mapping itself never shows).
    private func symmetricNatByElimination(suspect x: AgentSide, _ summary: IceSessionSummary) -> SymmetricNatEvidence? {
        let y = x.other
        guard let xu = session.ufrag(of: x), let yu = session.ufrag(of: y) else { return nil }
        func answered(_ p: IcePairState) -> Bool { p.successes > 0 }
        // y's public addresses that keep one mapping, and how that shows.
        func keepsMapping(_ ys: Endpoint) -> String? {
            if let nat = facts.natMappings.mappings(seenAs: ys.description).first(where: { $0.mappingBehavior == .endpointIndependent }) {
                return "\(yu)'s NAT keeps one mapping for its socket (\(nat.local) seen as \(ys) by \(Set(nat.observations.map(\.server)).sorted().joined(separator: " and ")))"
            }
            if let via = pairs.first(where: { $0.key.address(of: y) == ys && $0.isRelayed(x) && $0.checks(from: y).requests > 0 }) {
                return "\(yu)'s NAT keeps one mapping (its checks reached \(xu)'s relay from the same \(ys), frame \(via.checks(from: y).firstRequestFrame.map(String.init) ?? "?"))"
            }
            return nil
        }
        let xSrflx = Set(summary.candidates.filter { $0.agent == xu && $0.type == .srflx }.compactMap { Endpoint($0.address) })
        // Seen on the suspect's side: its direct checks to y's public address got no answer.
        for p in pairs where !p.isRelayed(x) && !p.isRelayed(y) && !answered(p) && p.checks(from: x).requests > 0 {
            let ys = p.key.address(of: y)
            guard !ys.address.isPrivate, !facts.relays.looksRelayed(ys), let why = keepsMapping(ys) else { continue }
            let frames = p.checks(from: x).requestFrames.prefix(4)
            return SymmetricNatEvidence(
                agent: xu,
                sentence: "agent \(xu) is behind a symmetric NAT (by elimination): its checks to \(yu)'s \(ys) (frames \(frames.map(String.init).joined(separator: ", "))) got no answer although \(why), so \(xu)'s NAT must map its socket to another port toward \(yu) than toward the STUN server",
                frames: Array(frames))
        }
        // Seen on the peer's side: y's checks to x's srflx got no answer, and no check of x came from it.
        for p in pairs where !p.isRelayed(x) && !p.isRelayed(y) && !answered(p) && p.checks(from: y).requests > 0 {
            let xs = p.key.address(of: x)
            guard xSrflx.contains(xs), !pairs.contains(where: { $0.key.address(of: x) == xs && $0.checks(from: x).requests > 0 }) else { continue }
            guard let yBase = Optional(p.key.address(of: y)),
                  let ys = facts.natMappings.mappings(ofLocal: yBase.description).first?.observations.first.flatMap({ Endpoint($0.reflexive) }) ?? Optional(yBase),
                  let why = keepsMapping(ys) else { continue }
            let frames = p.checks(from: y).requestFrames.prefix(4)
            return SymmetricNatEvidence(
                agent: xu,
                sentence: "agent \(xu) is behind a symmetric NAT (by elimination): \(yu)'s checks to \(xu)'s srflx \(xs) (frames \(frames.map(String.init).joined(separator: ", "))) got no answer and no check of \(xu) ever came from it, although \(why), so \(xu)'s NAT maps its socket to another port toward \(yu)",
                frames: Array(frames))
        }
        return nil
    }

    /// "Why did this call relay?": one root cause per session whose selected pair is relayed.
    private func addRelayedRootCause(for summary: IceSessionSummary, symmetric: SymmetricNatEvidence?, to findings: inout FindingCollector) {
        guard let selected = summary.selectedPair, selected.viaRelay else { return }
        let ref = SessionRef.ice(session.id)
        let pairText = "\(selected.local) <-> \(selected.remote)"
        let selectedFrames = [selected.nominationFrame].compactMap { $0 }
        if let direct = summary.pairs.first(where: { !$0.viaRelay && $0.state == .succeeded }) {
            findings.add(.warning, .iceRelayOverDirect,
                         "\(session: ref): the selected pair goes through TURN (\(pairText)) although the direct pair \(direct.local) <-> \(direct.remote) succeeded (frame \(direct.handshakeFrames.compactMap { $0 }.first.map(String.init) ?? "?")): priorities or policy preferred the relay; extra latency and relay cost.",
                         frames: selectedFrames + direct.handshakeFrames.compactMap { $0 }.prefix(2), session: ref)
            return
        }
        // Agents whose every check, sent or received, used their TURN relayed address: no host or
        // srflx address of theirs was ever checked (no SDP needed; RFC 8445 section 5.1.1, relay-only gathering).
        let relayOnly = session.agentSides.filter { agent in
            !pairs.isEmpty && pairs.contains { $0.checks(from: agent).requests > 0 } && pairs.allSatisfy { ownType($0, owner: agent) == .relay }
        }.compactMap { session.ufrag(of: $0) }
        if session.hasTwoAgents, !relayOnly.isEmpty {
            let who = relayOnly.count == 2 ? "agents \(relayOnly[0]) and \(relayOnly[1]) offered" : "agent \(relayOnly[0]) offered"
            findings.add(.info, .iceRelayedRelayOnly,
                         "\(session: ref): the selected pair is relayed (\(pairText)) because \(who) only relay candidates: every check \(relayOnly.count == 2 ? "they" : "it") sent or received here went through \(relayOnly.count == 2 ? "their" : "its") TURN allocation and no host or server-reflexive address of \(relayOnly.count == 2 ? "theirs" : "its") was ever checked (a relay-only policy, e.g. iceTransportPolicy \"relay\"), so no direct pair was possible.",
                         frames: selectedFrames, session: ref)
            return
        }
        // An agent that signalled only relay candidates (a relay-only policy, e.g. iceTransportPolicy "relay").
        for agent in session.agentSides {
            guard let ufrag = session.ufrag(of: agent) else { continue }
            let signalled = facts.signalling.descriptions(of: ufrag).flatMap(\.candidates)
            if !signalled.isEmpty, signalled.allSatisfy({ $0.type == .relay }) {
                findings.add(.info, .iceRelayedRelayOnly,
                             "\(session: ref): the selected pair is relayed (\(pairText)) because agent \(ufrag) offered only relay candidates (\(signalled.prefix(3).map(\.address).joined(separator: ", "))) in \(facts.signalling.descriptions(of: ufrag)[0].source): a relay-only policy, no direct pair was possible.",
                             frames: selectedFrames, session: ref)
                return
            }
        }
        if let symmetric {
            findings.add(.info, .iceRelayedSymmetricNat,
                         "\(session: ref): the selected pair is relayed (\(pairText)) because \(symmetric.sentence); only a relayed (or peer-reflexive) pair could work.",
                         frames: selectedFrames + symmetric.frames, session: ref)
            return
        }
        let direct = summary.pairs.enumerated().filter { !$0.element.viaRelay && $0.element.requestsSent > 0 }
        let list = direct.prefix(4).map { "\($0.element.local) -> \($0.element.remote)" }.joined(separator: ", ")
        let how = direct.isEmpty ? "no direct pair was checked here" :
            "the \(direct.count) direct pair(s) checked here (\(list)\(direct.count > 4 ? ", ..." : "")) got no success response"
        findings.add(.info, .iceRelayedDirectFailed,
                     "\(session: ref): the selected pair is relayed (\(pairText)) because \(how), and no symmetric NAT is in evidence at this vantage point: the NATs or firewalls filter the direct path (unsolicited inbound packets dropped), or the checks were lost.",
                     frames: selectedFrames + direct.compactMap { firstCheckFrame(pairs[$0.offset]) }.prefix(8), session: ref)
    }

    /// Checks answered with an error (RFC 8445 section 7.2.5.2, RFC 8489 section 6.3.4): which agent refused whose checks, and why.
    private func addRefusals(for summary: IceSessionSummary, to findings: inout FindingCollector) {
        let refused = summary.pairs.filter { $0.refusals != nil }
        guard !refused.isEmpty else { return }
        // A 487 is a role conflict, reported as ice.role.conflict.
        let all = refused.flatMap { p in (p.refusals ?? []).filter { $0.cause != .role }.map { (pair: p, refusal: $0) } }
        guard !all.isEmpty else { return }
        let failedPairs = Set(all.filter { $0.pair.state != .succeeded }.map { "\($0.pair.local) <-> \($0.pair.remote)" })
        let ref = SessionRef.ice(session.id)
        // One clause per refusing agent, checking agent and code, over all pairs.
        let groups = OrderedDictionary(grouping: all) { [$0.refusal.refusedBy, $0.refusal.checksFrom, String($0.refusal.code)] }
        let ordered = groups.values.sorted { ($0.flatMap(\.refusal.frames).min() ?? 0) < ($1.flatMap(\.refusal.frames).min() ?? 0) }
        let clauses = ordered.prefix(4).map { g -> String in
            let r = g[0].refusal
            let count = g.reduce(0) { $0 + $1.refusal.count }
            let frames = g.flatMap(\.refusal.frames).sorted()
            var clause = "agent \(r.refusedBy) answered \(count) of agent \(r.checksFrom)'s checks with \(r.code)\(r.reason.map { " " + $0 } ?? "") on \(Set(g.map { $0.pair.local + $0.pair.remote }).count) pair(s) (frames \(frames.prefix(4).map(String.init).joined(separator: ", "))\(frames.count > 4 ? ", ..." : "")): \(r.cause.meaning)"
            let after = g.reduce(0) { $0 + $1.refusal.afterSuccess }, retx = g.reduce(0) { $0 + $1.refusal.toRetransmissions }
            if after > 0 { clause += "; \(after) of them to a check it had already answered with success" }
            if retx > 0 { clause += "; \(retx) answered retransmissions" }
            return clause
        }
        var text = "error responses to checks: " + clauses.joined(separator: "; and ")
        if groups.count > 4 { text += "; ..." }
        text += failedPairs.isEmpty ? " (every such pair succeeded all the same)." : "; \(failedPairs.count) of these pair(s) never succeeded."
        findings.add(failedPairs.isEmpty ? .info : .warning, .iceCheckRefused, "\(session: ref): \(text)",
                     frames: all.flatMap(\.refusal.frames).sorted(), session: ref)
    }

    /// The frame of the pair's first check, either way.
    private func firstCheckFrame(_ p: IcePairState) -> Int? {
        p.dir.compactMap(\.firstRequestFrame).min()
    }
}

extension IceSessionContext {
    /// The NAT view's entry for a symmetric NAT only ICE shows (RFC 4787 section
    /// 4.1: one host socket, one mapping per destination), so `natMappings` agrees
    /// with `ice.relayed.symmetric-nat`: nil when `natMappings` already says so for
    /// the agent's addresses, or the evidence is not one IP with two mappings.
    func natMappingEvidence(_ summary: IceSessionSummary) -> NatMappingSummary? {
        guard let e = symmetricNatEvidence(summary), let srflx = e.srflx, let other = e.other, let toward = e.toward,
              let side = session.agentSides.first(where: { session.ufrag(of: $0) == e.agent }) else { return nil }
        let own = Set(addresses[side].map(\.description))
        if facts.natMappings.mappings(ofLocals: own).contains(where: { $0.mappingBehavior != .none && $0.mappingBehavior != .endpointIndependent }) {
            return nil
        }
        // The socket behind both mappings: the agent's one private host address, when this vantage point shows one.
        let bases = addresses[side].filter { $0.address.isPrivate && !facts.relays.isRelayed($0) }
        let stun = facts.natMappings.mappings(seenAs: srflx.description).first?.observations.first { $0.reflexive == srflx.description }
        var observations: [NatMappingSummary.Observation] = []
        if let stun { observations.append(stun) }
        observations.append(.init(server: toward.description, reflexive: other.description, frame: e.otherFrame ?? 0))
        let local = bases.count == 1 ? bases[0].description : srflx.description
        let behind = bases.count == 1 ? "" : " (its host address is not seen here: listed under its srflx address)"
        return NatMappingSummary(
            local: local, observations: observations, mappingBehavior: .addressDependent, filteringBehavior: nil,
            explanation: "ICE agent \(e.agent)'s socket\(behind) is seen as \(srflx) by \(stun?.server ?? "a STUN server") but as \(other) by \(toward) (its ICE checks): the NAT's mapping depends on the destination (symmetric NAT); srflx candidates from it fail.")
    }
}
