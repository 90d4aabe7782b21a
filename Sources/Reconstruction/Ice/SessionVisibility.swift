import NetworkVocabulary

extension IceSessionContext {
    /// MESSAGE-INTEGRITY over the session's checks and responses (RFC 8445
    /// section 7.2.2: checks are authenticated with the receiver's ice-pwd);
    /// nil when no message carried it.
    func integrity() -> SessionIntegrity? {
        let counts = session.integrity
        let valid = counts["valid"] ?? 0
        if (counts["invalid"] ?? 0) > 0 { return .invalid }
        if (counts["unchecked"] ?? 0) > 0 { return valid > 0 ? .partlyUnchecked : .unchecked }
        if valid > 0 { return .valid }
        return nil
    }

    /// What this vantage point could not see, one sentence each: a capture
    /// point between the agents sees only the packets that pass it.
    func visibility(of summary: IceSessionSummary, notes: ClassificationNotes) -> [String] {
        var lines: [String] = []
        let two = session.hasTwoAgents
        if two {
            if !roles.areKnown {
                lines.append("roles unknown: no check with ICE-CONTROLLING or ICE-CONTROLLED was seen")
            } else if roles.source == .inferred {
                lines.append("no check from the controlling agent (\(session.ufrags[roles.local.rawValue])) passed this vantage point: its role is inferred from the other agent's ICE-CONTROLLED, and its nominations cannot be seen")
            }
            let senders = AgentSide.allCases.filter { agent in pairs.contains { $0.checks(from: agent).requests > 0 } }
            if senders.count == 1 {
                lines.append("only agent \(session.ufrags[senders[0].rawValue])'s checks are visible here: agent \(session.ufrags[senders[0].other.rawValue])'s checks took another path")
            }
        }
        if summary.selectedPair == nil {
            let bothChecked = pairs.contains {
                $0.checks(from: roles.local).requests > 0 && (two ? $0.checks(from: roles.remote).requests > 0 : true)
            }
            if pairs.contains(where: { $0.successes > 0 }) || pairs.isEmpty || roles.source == .inferred || !bothChecked {
                lines.append("selected pair: not visible here (no nominated pair with a success response passed this vantage point)")
            } else {
                lines.append("selected pair: none (checks were seen but no pair was nominated and succeeded)")
            }
        }
        // RFC 8445 7.2.5.3.1 / 7.3.1.3: a prflx candidate is learnt from a check or its response.
        if two, !summary.candidates.contains(where: { $0.type == .prflx }),
           !pairs.contains(where: { $0.checks(from: .first).successes > 0 && $0.checks(from: .second).successes > 0 }) {
            lines.append("peer-reflexive candidates: none seen, but no pair showed checks answered in both directions here, so ones learnt elsewhere cannot be ruled out")
        }
        if summary.nomination == .none {
            lines.append("nomination: no USE-CANDIDATE or NOMINATION was seen at this vantage point, so the nomination mode cannot be told here")
        }
        let unanswered = pairs.reduce(0) { $0 + $1.dir.reduce(0) { $0 + $1.unanswered } }
        if unanswered > 0 {
            lines.append("\(unanswered) check(s) got no response here (unreachable candidates, or the responses took another path)")
        }
        for agent in session.agentSides {
            let beforeNat = addressesSeenBeforeNat(of: agent)
            if !beforeNat.isEmpty {
                lines.append("agent \(session.ufrags[agent.rawValue])'s addresses are seen before its NAT (\(beforeNat.prefix(3).map(\.description).joined(separator: ", "))): how its peer saw them comes from the XOR-MAPPED-ADDRESS of the check responses")
            }
        }
        if !notes.srflxOrHost.isEmpty {
            lines.append("srflx or host cannot be told apart here for \(notes.srflxOrHost.sorted().prefix(6).joined(separator: ", ")): a STUN server saw the address unchanged and nothing shows whether its owner is behind a NAT (reported as srflx)")
        }
        if !notes.typeInferred.isEmpty {
            lines.append("candidate types inferred without signalling or the owner's STUN/TURN exchanges: \(notes.typeInferred.sorted().prefix(6).joined(separator: ", "))")
        }
        if session.relayedWithoutAllocation > 0 {
            lines.append("\(session.relayedWithoutAllocation) check(s) went through a TURN allocation whose Allocate was not captured: the TURN server's address stands in for the relayed address")
        }
        if session.unresolvedCarrierChecks > 0 {
            lines.append("\(session.unresolvedCarrierChecks) check(s) inside ChannelData on a channel whose ChannelBind was not captured could not be placed on a pair")
        }
        if session.pairsDropped > 0 {
            lines.append("\(session.pairsDropped) check(s) on further pairs were not tracked (more than \(IceSessionState.maxPairs) pairs)")
        }
        return lines
    }

    /// The agent's own (not relayed) addresses that sit behind a NAT: a STUN
    /// server saw them as another address, or (no STUN server answered) they
    /// are private and the peer's responses never reported them unchanged.
    private func addressesSeenBeforeNat(of agent: AgentSide) -> [Endpoint] {
        addresses[agent].filter { e in
            !facts.relays.isRelayed(e) && (facts.mappings.isMappedByNat(e)
                ?? (e.address.isPrivate && session.checkSources(of: agent).contains(e)
                    && !pairs.contains { $0.key.address(of: agent) == e && $0.checks(from: agent).mapped == e }))
        }
    }
}
