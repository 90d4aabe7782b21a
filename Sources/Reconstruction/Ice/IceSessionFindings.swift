import NetworkVocabulary

extension IceSessionContext {
    /// The findings one session raises once it is summarised (the consent gap
    /// is raised with the consent summary, `consentFreshness(on:findings:)`).
    func addFindings(for summary: IceSessionSummary, to findings: inout FindingCollector) {
        let ref = SessionRef.ice(session.id)
        // RFC 8445 7.3.1.1: both agents claimed the same role; the one told 487 must switch.
        if !session.roleConflictFrames.isEmpty {
            let switches = session.agents.flatMap { a in a.roleSwitches.map { "\(a.ufrag) \($0.from) -> \($0.to) at frame \($0.frame)" } }
            findings.add(.warning, .iceRoleConflict,
                         "\(session: ref): \(session.roleConflictFrames.count) 487 Role Conflict response(s): both agents claimed the same role\(switches.isEmpty ? "; no role switch was seen afterwards." : "; then " + switches.joined(separator: ", ") + ".")",
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
            findings.add(succeeded.isEmpty ? .warning : .info, .iceChecksUnanswered,
                         "\(session: ref): checks on \(unanswered.count) of \(summary.pairs.count) candidate pair(s) got no response here (\(list)\(unanswered.count > 4 ? ", ..." : "")): unreachable candidates (private addresses across NATs, filtered ports) or answers that took another path.",
                         frames: frames, session: ref)
        }
        let bothAgentsChecked = pairs.contains { $0.checks(from: .first).requests > 0 }
            && pairs.contains { $0.checks(from: .second).requests > 0 }
        if succeeded.isEmpty && !summary.pairs.isEmpty && bothAgentsChecked && summary.selectedPair == nil {
            findings.add(.error, .iceFailed,
                         "\(session: ref): both agents sent checks on \(summary.pairs.count) pair(s) but no check got a success response: connectivity failed (firewalls, symmetric NATs without a TURN relay, or wrong credentials).",
                         frames: pairs.compactMap(firstCheckFrame), session: ref)
        }
        addSymmetricNatFinding(for: summary, to: &findings)
        if let selected = summary.selectedPair, selected.viaRelay,
           let direct = summary.pairs.first(where: { !$0.viaRelay && $0.state == .succeeded }) {
            findings.add(.warning, .iceRelayOverDirect,
                         "\(session: ref): the selected pair goes through TURN (\(selected.local) <-> \(selected.remote)) although the direct pair \(direct.local) <-> \(direct.remote) succeeded: extra latency and relay cost.",
                         frames: [], session: ref)
        }
        for c in summary.candidates where c.type == .prflx {
            findings.add(.info, .iceCandidatePrflx,
                         "\(session: ref): peer-reflexive candidate \(c.address) (\(c.reason?.rawValue ?? "?")): \(c.explanation ?? "")",
                         frames: [], session: ref)
        }
    }

    /// Every pair toward a server-reflexive candidate failed while a symmetric
    /// NAT is in evidence (a prflx candidate explained by one, or a NAT mapping
    /// that depends on the destination, RFC 4787 section 4.1): srflx cannot work there.
    private func addSymmetricNatFinding(for summary: IceSessionSummary, to findings: inout FindingCollector) {
        let symmetricPrflx = summary.candidates.filter { $0.reason == .symmetricNat }
        let symmetricNats = facts.natMappings.filter { $0.mappingBehavior == .addressDependent }
        // Pairs toward the symmetric agent's srflx candidates (as its peer saw them).
        let owners = Set(symmetricPrflx.compactMap(\.agent))
        let srflxPairs = summary.pairs.filter { p in
            if owners.isEmpty { return p.remoteType == .srflx || p.controlledRemoteType == .srflx }
            return (owners.contains(summary.controlledUfrag ?? "") && p.remoteType == .srflx)
                || (owners.contains(summary.controllingUfrag ?? "") && p.controlledRemoteType == .srflx)
        }
        guard !srflxPairs.isEmpty, !srflxPairs.contains(where: { $0.state == .succeeded }),
              !symmetricPrflx.isEmpty || !symmetricNats.isEmpty else { return }
        let who = symmetricPrflx.first.map { "\($0.agent ?? "?") (\($0.address))" } ?? symmetricNats.first!.local
        let ref = SessionRef.ice(session.id)
        findings.add(.warning, .iceSrflxSymmetricNat,
                     "\(session: ref): every pair toward a server-reflexive candidate failed (\(srflxPairs.count) pair(s)): \(who) is behind a symmetric NAT, whose mapping toward the peer differs from the one the STUN server saw, so srflx candidates cannot work; only relay or peer-reflexive pairs can.",
                     frames: [], session: ref)
    }

    /// The frame of the pair's first check, either way.
    private func firstCheckFrame(_ p: IcePairState) -> Int? {
        p.dir.compactMap(\.firstRequestFrame).min()
    }
}
