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
                                signalling: SignalledCandidates(signalled), natMappings: NatMappingTable(natMappings), end: end)
    }

    func summary(of session: IceSessionState, findings: inout FindingCollector) -> IceSessionSummary {
        IceSessionContext(facts: facts, session: session).summary(findings: &findings)
    }

    /// NAT-view entries for symmetric NATs that only the ICE checks show (`summaries` in `sessions`' order).
    func natMappings(sessions: [IceSessionState], summaries: [IceSessionSummary]) -> [NatMappingSummary] {
        var out: [NatMappingSummary] = []
        var locals = Set<String>()
        for (session, summary) in zip(sessions, summaries) {
            guard let m = IceSessionContext(facts: facts, session: session).natMappingEvidence(summary),
                  locals.insert(m.local).inserted else { continue }
            out.append(m)
        }
        return out
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
        var summary = IceSessionSummary(id: session.id, ufrags: session.ufrags, nomination: .none,
                                        start: session.start.epochSeconds, end: session.last.epochSeconds)
        summary.roleSource = roles.source
        summary.checks = session.checks
        summary.responses = session.responses
        summary.transports = session.transports.sorted { $0.description < $1.description }
        summary.pairsDropped = session.pairsDropped
        summary.timeline = session.timeline
        summary.timelineDropped = session.timelineDropped
        summary.roleConflicts = session.roleConflictFrames.count
        summary.integrityCounts = session.integrity
        if session.hasTwoAgents, roles.areKnown {
            summary.controllingUfrag = session.ufrag(of: roles.local)
            summary.controlledUfrag = session.ufrag(of: roles.remote)
        }
        for agent in session.agents { if let tb = agent.tieBreaker { summary.tieBreakers[agent.ufrag] = String(tb) } }

        var notes = ClassificationNotes()
        summary.candidates = candidateList(notes: &notes)
        let types = CandidateTypes(summary.candidates, ufrags: session.ufrags)
        var pairSummaries = pairs.map { pairSummary($0, candidates: types, notes: &notes) }
        summary.nomination = nominationMode()
        let selection = selectedPair()
        if let selection, let i = pairs.firstIndex(where: { $0 === selection.pair }) {
            summary.selectedPair = selected(pairSummaries[i], basis: selection.basis)
            let pair = selection.pair
            if let t = nominationTime(pair), let first = session.firstCheck {
                summary.connectTime = t.seconds(since: first)
            }
            if let media = pair.firstMedia {
                summary.firstMediaTime = media.time.epochSeconds
                if let first = session.firstCheck { summary.firstMediaDelay = media.time.seconds(since: first) }
            }
            summary.consent = consentFreshness(on: pair, findings: &findings)
            // Selected without a success seen here (nomination request and media): it did succeed.
            if pairSummaries[i].state == .inProgress { pairSummaries[i].state = .succeeded }
        }
        summary.pairs = pairSummaries

        // The roles as endpoints: on the selected pair, else on the first pair.
        if session.hasTwoAgents, roles.areKnown, let key = selection?.pair.key ?? pairs.first?.key {
            summary.controlling = key.address(of: roles.local).description
            summary.controlled = key.address(of: roles.remote).description
        }

        for (side, state) in zip(AgentSide.allCases, session.agents) {
            var agent = IceAgentSummary(ufrag: state.ufrag)
            agent.role = state.role ?? (roles.areKnown && session.hasTwoAgents ? (side == roles.local ? .controlling : .controlled) : nil)
            agent.initialRole = state.initialRole
            agent.tieBreaker = state.tieBreaker.map(String.init)
            agent.addresses = addresses[side].map(\.description)
            agent.checksSent = state.checksSent
            agent.roleSwitches = state.roleSwitches
            agent.signalledBy = facts.signalling.descriptions(of: state.ufrag).first?.source
            summary.agents.append(agent)
        }

        summary.integrity = integrity()
        summary.visibility = visibility(of: summary, notes: notes)
        addFindings(for: summary, to: &findings)
        return summary
    }

    private func selected(_ pair: IcePairSummary, basis: PairSelectionBasis) -> IceSelectedPair {
        var selected = IceSelectedPair(local: pair.local, remote: pair.remote, localType: pair.localType, remoteType: pair.remoteType)
        selected.controlledLocalType = pair.controlledLocalType
        selected.controlledRemoteType = pair.controlledRemoteType
        selected.viaRelay = pair.viaRelay
        selected.localCandidate = pair.localCandidate
        selected.remoteCandidate = pair.remoteCandidate
        selected.controlledLocalCandidate = pair.controlledLocalCandidate
        selected.controlledRemoteCandidate = pair.controlledRemoteCandidate
        selected.basis = basis
        selected.nominationFrame = pair.nominationFrame
        return selected
    }
}
