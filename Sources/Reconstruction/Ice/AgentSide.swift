import NetworkVocabulary

/// One of the (at most two) agents of an ICE session, as the tracker numbers
/// them by sorted ufrag: `first` owns `IcePairKey.e0` and index 0 of every
/// per-agent array (`IcePairState.dir`, `relaySide`, `IceSessionState.agents`,
/// `checkSources`). A session whose checks carry one ufrag has only `first`.
enum AgentSide: Int, CaseIterable {
    case first = 0
    case second = 1

    var other: AgentSide { self == .first ? .second : .first }
}

/// Which agent the summary puts on which side of each pair.
///
/// `local` is the controlling agent; with no role seen, the agent that sent
/// the first check. In a single-ufrag session both sides are its only agent.
struct AgentRoles {
    let local: AgentSide
    let remote: AgentSide
    /// How the controlling agent is known; nil when no check carried a role.
    let source: IceRoleSource?

    var areKnown: Bool { source != nil }

    /// RFC 8445 section 7.1.3 / 7.3.1.1: ICE-CONTROLLING or ICE-CONTROLLED on
    /// the checks name the roles; when both agents still claim controlling, the
    /// larger tie-breaker wins; when only ICE-CONTROLLED was seen, the other agent
    /// controls.
    init(of session: IceSessionState, pairs: [IcePairState], end: CaptureTime) {
        guard session.hasTwoAgents else {
            self.init(local: .first, remote: .first, source: nil)
            return
        }
        let first = session.agent(.first), second = session.agent(.second)
        let controlling: AgentSide?
        switch (first.role, second.role) {
        case (.controlling, .controlling):
            // Unresolved conflict: the larger tie-breaker keeps the controlling role (RFC 8445 7.3.1.1).
            controlling = (first.tieBreaker ?? 0) >= (second.tieBreaker ?? 0) ? .first : .second
        case (.controlling, _): controlling = .first
        case (_, .controlling): controlling = .second
        default: controlling = nil
        }
        if let controlling {
            self.init(local: controlling, source: .iceControlling)
        } else if first.role == .controlled && second.role != .controlled {
            self.init(local: .second, source: .inferred)
        } else if second.role == .controlled && first.role != .controlled {
            self.init(local: .first, source: .inferred)
        } else {
            // No role seen: the agent that sent the first check is `local`.
            let firstChecked = pairs.min {
                ($0.dir.compactMap(\.firstRequest).min() ?? end) < ($1.dir.compactMap(\.firstRequest).min() ?? end)
            }
            self.init(local: firstChecked?.initiatingAgent ?? .first, source: nil)
        }
    }

    private init(local: AgentSide, remote: AgentSide? = nil, source: IceRoleSource?) {
        self.local = local
        self.remote = remote ?? local.other
        self.source = source
    }
}

/// Each agent's wire addresses on the session's pairs, in pair order.
struct AgentAddresses {
    private var lists: [[Endpoint]] = [[], []]

    init(pairs: [IcePairState], agents: [AgentSide]) {
        for p in pairs {
            for agent in agents where !lists[agent.rawValue].contains(p.key.address(of: agent)) {
                lists[agent.rawValue].append(p.key.address(of: agent))
            }
        }
    }

    subscript(agent: AgentSide) -> [Endpoint] { lists[agent.rawValue] }
}

// Typed access to the tracker's per-agent state.

extension IcePairKey {
    func address(of agent: AgentSide) -> Endpoint { side(agent.rawValue) }
}

extension IcePairState {
    /// What `agent`'s checks on this pair did.
    func checks(from agent: AgentSide) -> IceDirectionState { dir[agent.rawValue] }

    /// `agent` reached its peer through its own TURN allocation (its side is a relayed address).
    func isRelayed(_ agent: AgentSide) -> Bool { relaySide[agent.rawValue] }

    /// The agent whose check on this pair came first (agent "A" of the 4-way handshake).
    var initiatingAgent: AgentSide? { initiator.flatMap(AgentSide.init(rawValue:)) }

    /// Success responses to both agents' checks.
    var successes: Int { dir[0].successes + dir[1].successes }

    /// Media packets both ways.
    var totalMediaPackets: Int { mediaPackets[0] + mediaPackets[1] }
}

extension IceDirectionState {
    /// A nominating check (USE-CANDIDATE or NOMINATION) got a success response.
    var nominationSucceeded: Bool { useCandidateSuccessFrame != nil || nominationSuccessFrame != nil }

    /// When the nomination took effect: its check's success response.
    var nominationSuccess: CaptureTime? { nominationSuccessTime ?? useCandidateSuccessTime }

    /// Checks that got neither a success nor an error response.
    var unanswered: Int { max(0, requests - successes - errors) }
}

extension IceSessionState {
    /// Checks carried a "receiver:sender" USERNAME, so the session has two ufrags.
    var hasTwoAgents: Bool { ufrags.count == 2 }

    /// The session's agents: both, or `first` alone.
    var agentSides: [AgentSide] { hasTwoAgents ? [.first, .second] : [.first] }

    func agent(_ side: AgentSide) -> IceAgentState { agents[side.rawValue] }

    func ufrag(of side: AgentSide) -> String? { side.rawValue < ufrags.count ? ufrags[side.rawValue] : nil }

    /// What `viewer` did with `address`: checked it, or got a check from it.
    func contact(of viewer: AgentSide, with address: Endpoint) -> IceContact? {
        contacts[IceContactKey(viewer: viewer.rawValue, address: address)]
    }

    /// Wire addresses `side` sent checks from.
    func checkSources(of side: AgentSide) -> [Endpoint] { checkSources[side.rawValue] }
}
