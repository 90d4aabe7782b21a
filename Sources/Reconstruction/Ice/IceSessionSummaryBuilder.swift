import NetworkVocabulary
import OrderedCollections

/// Turns `IceSessionTracker` state into `IceSessionSummary`s at the end of
/// the capture, when the STUN server and TURN observations of the whole
/// capture are known: roles, candidate types (with what this vantage point
/// can know), pair states, nomination mode, the selected pair, consent
/// freshness, visibility notes and findings.
///
/// The work is split by idea: `AgentSide.swift` (which agent is which),
/// `CandidateClassification.swift`, `PairSummaries.swift`, `Nomination.swift`,
/// `ConsentFreshness.swift`, `CandidateList.swift`, `SessionVisibility.swift`
/// and `IceSessionFindings.swift`, each an extension of `IceSessionContext`.
struct IceSessionSummaryBuilder {
    let facts: IceCaptureFacts

    init(reflexiveByLocal: OrderedDictionary<Endpoint, [ReflexiveObservation]>, allocations: [TurnAllocation],
         signalled: [SignalledDescription], natMappings: [NatMappingSummary], end: CaptureTime) {
        facts = IceCaptureFacts(mappings: StunMappings(reflexiveByLocal), relays: TurnRelays(allocations),
                                signalling: SignalledCandidates(signalled), natMappings: natMappings, end: end)
    }

    func summary(of session: IceSessionState, findings: inout FindingCollector) -> IceSessionSummary {
        IceSessionContext(facts: facts, session: session).summary(findings: &findings)
    }
}

/// One ICE session being summarised: its tracker state, its pairs in the
/// order their first check was seen, which agent is on which side, each
/// agent's wire addresses, and the capture-wide facts.
struct IceSessionContext {
    let facts: IceCaptureFacts
    let session: IceSessionState
    let pairs: [IcePairState]
    let roles: AgentRoles
    let addresses: AgentAddresses

    init(facts: IceCaptureFacts, session: IceSessionState) {
        let pairs = Array(session.pairs.values)
        self.facts = facts
        self.session = session
        self.pairs = pairs
        self.roles = AgentRoles(of: session, pairs: pairs, end: facts.end)
        self.addresses = AgentAddresses(pairs: pairs, agents: session.agentSides)
    }

    func summary(findings: inout FindingCollector) -> IceSessionSummary {
        let s = session
        var out = IceSessionSummary(id: s.id, ufrags: s.ufrags, nomination: .none, start: s.start.epochSeconds,
                                    end: s.last.epochSeconds)
        out.roleSource = roles.source
        out.checks = s.checks
        out.responses = s.responses
        out.transports = s.transports.sorted { $0.description < $1.description }
        out.pairsDropped = s.pairsDropped
        out.timeline = s.timeline
        out.timelineDropped = s.timelineDropped
        out.roleConflicts = s.roleConflictFrames.count
        out.integrityCounts = s.integrity
        if s.hasTwoAgents, roles.areKnown {
            out.controllingUfrag = s.ufrag(of: roles.local)
            out.controlledUfrag = s.ufrag(of: roles.remote)
        }
        for a in s.agents { if let tb = a.tieBreaker { out.tieBreakers[a.ufrag] = String(tb) } }

        var notes = ClassificationNotes()
        var pairSummaries = pairs.map { pairSummary($0, notes: &notes) }
        out.nomination = nominationMode()
        let selection = selectedPair()
        if let selection, let i = pairs.firstIndex(where: { $0 === selection.pair }) {
            out.selectedPair = selected(pairSummaries[i], basis: selection.basis)
            let p = selection.pair
            if let t = nominationTime(p), let first = s.firstCheck {
                out.connectTime = t.seconds(since: first)
            }
            if let media = p.firstMedia {
                out.firstMediaTime = media.time.epochSeconds
                if let first = s.firstCheck { out.firstMediaDelay = media.time.seconds(since: first) }
            }
            out.consent = consentFreshness(on: p, findings: &findings)
            // Selected without a success seen here (nomination request and media): it did succeed.
            if pairSummaries[i].state == .inProgress { pairSummaries[i].state = .succeeded }
        }
        out.pairs = pairSummaries

        // The roles as endpoints: on the selected pair, else on the first pair.
        if s.hasTwoAgents, roles.areKnown, let key = selection?.pair.key ?? pairs.first?.key {
            out.controlling = key.address(of: roles.local).description
            out.controlled = key.address(of: roles.remote).description
        }

        for (side, a) in zip(AgentSide.allCases, s.agents) {
            var agent = IceAgentSummary(ufrag: a.ufrag)
            agent.role = a.role ?? (roles.areKnown && s.hasTwoAgents ? (side == roles.local ? .controlling : .controlled) : nil)
            agent.initialRole = a.initialRole
            agent.tieBreaker = a.tieBreaker.map(String.init)
            agent.addresses = addresses[side].map(\.description)
            agent.checksSent = a.checksSent
            agent.roleSwitches = a.roleSwitches
            agent.signalledBy = facts.signalling.descriptions(of: a.ufrag).first?.source
            out.agents.append(agent)
        }

        out.candidates = candidateList(notes: &notes)
        out.integrity = integrity()
        out.visibility = visibility(of: out, notes: notes)
        addFindings(for: out, to: &findings)
        return out
    }

    private func selected(_ pair: IcePairSummary, basis: PairSelectionBasis) -> IceSelectedPair {
        var selected = IceSelectedPair(local: pair.local, remote: pair.remote, localType: pair.localType, remoteType: pair.remoteType)
        selected.controlledLocalType = pair.controlledLocalType
        selected.controlledRemoteType = pair.controlledRemoteType
        selected.viaRelay = pair.viaRelay
        selected.basis = basis
        selected.nominationFrame = pair.nominationFrame
        return selected
    }
}
